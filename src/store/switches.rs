//! Cameras whose recording is switched off at run time: since when and by whom
//! (a user's name, or "mqtt"). Kept across restarts; a rename carries it over.

use super::{Result, Store};
use rusqlite::params;
use std::collections::BTreeMap;

/// Who switched a camera's recording off, and when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Off {
    pub since_us: i64,
    pub by: String,
}

impl Store {
    /// Every camera whose recording is off.
    pub fn recording_off(&self) -> Result<BTreeMap<String, Off>> {
        let c = self.conn();
        let mut st = c.prepare("SELECT camera, since_us, by FROM recording_off")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Off {
                    since_us: r.get(1)?,
                    by: r.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Switches `camera`'s recording on (forgetting the switch) or off.
    pub fn set_recording(&self, camera: &str, on: bool, by: &str, now_us: i64) -> Result<()> {
        let c = self.conn();
        if on {
            c.execute("DELETE FROM recording_off WHERE camera = ?1", [camera])?;
        } else {
            c.execute(
                "INSERT OR IGNORE INTO recording_off (camera, since_us, by) VALUES (?1, ?2, ?3)",
                params![camera, now_us, by],
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_is_kept_until_switched_back_and_follows_a_rename() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("i.db")).unwrap();
        s.set_recording("door", false, "mqtt", 5).unwrap();
        s.set_recording("door", false, "sam", 9).unwrap();
        let off = s.recording_off().unwrap();
        assert_eq!(
            off["door"],
            Off {
                since_us: 5,
                by: "mqtt".into()
            }
        );
        s.rename_camera("door", "porch").unwrap();
        assert!(s.recording_off().unwrap().contains_key("porch"));
        s.set_recording("porch", true, "mqtt", 10).unwrap();
        assert!(s.recording_off().unwrap().is_empty());
    }
}
