//! Privacy mode in the index: the periods each camera was private (the open
//! one is the camera's state now, kept across restarts), and the switches by
//! hand that hold until the camera's schedule next changes.

use super::{Result, Store};
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;

/// A time a camera was private: nothing was pulled from it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub camera: String,
    pub start_us: i64,
    /// `None` while it lasts.
    pub end_us: Option<i64>,
    /// A user's name, `schedule` or `mqtt`.
    pub started_by: String,
    pub ended_by: Option<String>,
}

/// A switch by hand: private or not, since when, by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub private: bool,
    pub since_us: i64,
    pub by: String,
}

fn period(r: &rusqlite::Row<'_>) -> rusqlite::Result<Period> {
    Ok(Period {
        camera: r.get(0)?,
        start_us: r.get(1)?,
        end_us: r.get(2)?,
        started_by: r.get(3)?,
        ended_by: r.get(4)?,
    })
}

const PERIOD: &str = "SELECT camera, start_us, end_us, started_by, ended_by FROM privacy_periods";

impl Store {
    /// The cameras private now: each one's open period.
    pub fn private_now(&self) -> Result<BTreeMap<String, Period>> {
        let c = self.conn();
        let mut st = c.prepare(&format!("{PERIOD} WHERE end_us IS NULL"))?;
        let rows = st.query_map([], period)?;
        rows.map(|r| r.map(|p| (p.camera.clone(), p)))
            .collect::<std::result::Result<_, _>>()
            .map_err(Into::into)
    }

    /// Opens (`private`) or closes `camera`'s privacy period at `now_us`, as `by`.
    /// Opening an open one or closing a closed one changes nothing.
    pub fn set_private(&self, camera: &str, private: bool, by: &str, now_us: i64) -> Result<()> {
        let c = self.durable()?;
        if private {
            c.execute(
                "INSERT OR IGNORE INTO privacy_periods (camera, start_us, started_by)
                 VALUES (?1, ?2, ?3)",
                params![camera, now_us, by],
            )?;
        } else {
            c.execute(
                "UPDATE privacy_periods SET end_us = max(start_us, ?2), ended_by = ?3
                 WHERE camera = ?1 AND end_us IS NULL",
                params![camera, now_us, by],
            )?;
        }
        Ok(())
    }

    /// `camera`'s privacy periods that overlap `[from_us, to_us)`, oldest first.
    pub fn privacy_periods(&self, camera: &str, from_us: i64, to_us: i64) -> Result<Vec<Period>> {
        let c = self.conn();
        let mut st = c.prepare(&format!(
            "{PERIOD} WHERE camera = ?1 AND start_us < ?3 AND (end_us IS NULL OR end_us > ?2)
             ORDER BY start_us"
        ))?;
        let rows = st.query_map(params![camera, from_us, to_us], period)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every switch by hand still kept.
    pub fn privacy_overrides(&self) -> Result<BTreeMap<String, Override>> {
        let c = self.conn();
        let mut st = c.prepare("SELECT camera, private, since_us, by FROM privacy_override")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Override {
                    private: r.get(1)?,
                    since_us: r.get(2)?,
                    by: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Keeps `camera`'s switch by hand, or forgets it (`None`).
    pub fn set_privacy_override(&self, camera: &str, o: Option<&Override>) -> Result<()> {
        let c = self.durable()?;
        match o {
            Some(o) => c.execute(
                "INSERT OR REPLACE INTO privacy_override (camera, private, since_us, by)
                 VALUES (?1, ?2, ?3, ?4)",
                params![camera, o.private, o.since_us, o.by],
            )?,
            None => c.execute("DELETE FROM privacy_override WHERE camera = ?1", [camera])?,
        };
        Ok(())
    }

    /// The override of one camera (for tests and the CLI).
    pub fn privacy_override(&self, camera: &str) -> Result<Option<Override>> {
        let c = self.conn();
        Ok(c.query_row(
            "SELECT private, since_us, by FROM privacy_override WHERE camera = ?1",
            [camera],
            |r| {
                Ok(Override {
                    private: r.get(0)?,
                    since_us: r.get(1)?,
                    by: r.get(2)?,
                })
            },
        )
        .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_open_once_close_once_and_follow_a_rename() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("i.db")).unwrap();
        s.set_private("den", true, "schedule", 10).unwrap();
        s.set_private("den", true, "sam", 20).unwrap();
        assert_eq!(s.private_now().unwrap()["den"].started_by, "schedule");
        s.set_private("den", false, "sam", 30).unwrap();
        s.set_private("den", false, "mqtt", 40).unwrap();
        assert!(s.private_now().unwrap().is_empty());
        s.set_private("den", true, "mqtt", 50).unwrap();
        let all = s.privacy_periods("den", 0, 100).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].end_us, all[0].ended_by.as_deref()),
            (Some(30), Some("sam"))
        );
        assert_eq!(all[1].end_us, None);
        assert_eq!(s.privacy_periods("den", 31, 49).unwrap(), vec![]);
        assert_eq!(s.privacy_periods("den", 29, 31).unwrap().len(), 1);
        s.rename_camera("den", "study").unwrap();
        assert_eq!(s.privacy_periods("study", 0, 100).unwrap().len(), 2);
        assert!(s.private_now().unwrap().contains_key("study"));
    }

    #[test]
    fn an_override_is_kept_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("i.db")).unwrap();
        let o = Override {
            private: false,
            since_us: 7,
            by: "sam".into(),
        };
        s.set_privacy_override("den", Some(&o)).unwrap();
        assert_eq!(s.privacy_overrides().unwrap()["den"], o);
        assert_eq!(s.privacy_override("den").unwrap(), Some(o));
        s.set_privacy_override("den", None).unwrap();
        assert!(s.privacy_overrides().unwrap().is_empty());
    }
}
