//! Motion events and the per-second activity level of each camera.

use super::{Result, Store};
use rusqlite::{OptionalExtension, params};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub camera: String,
    pub start_us: i64,
    pub end_us: i64,
    pub peak: f32,
    pub peak_us: i64,
    /// Union of the boxes as "x0,y0,x1,y1" in 0..1 units.
    pub bbox: Option<String>,
    pub zones: Vec<String>,
}

/// Which events a list shows, newest first.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Cameras to take events from (those the user may see, narrowed by choice).
    pub cameras: Vec<String>,
    pub zone: Option<String>,
    /// Events overlapping `[from_us, to_us)`.
    pub from_us: i64,
    pub to_us: i64,
    /// The page after this event (start, id), for paging back in time.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
    /// Whose reviewed marks to read.
    pub user_id: i64,
}

/// An event from the first eight columns of `id, camera, start_us, end_us,
/// peak, peak_us, bbox, zones`.
fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let zones: String = r.get(7)?;
    Ok(EventRow {
        id: r.get(0)?,
        camera: r.get(1)?,
        start_us: r.get(2)?,
        end_us: r.get(3)?,
        peak: r.get(4)?,
        peak_us: r.get(5)?,
        bbox: r.get(6)?,
        zones: zones
            .split(',')
            .filter(|z| !z.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl Store {
    /// Events across cameras, newest first, each with whether the user marked it reviewed.
    pub fn events_filtered(&self, f: &EventFilter) -> Result<Vec<(EventRow, bool)>> {
        if f.cameras.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.conn();
        let marks = vec!["?"; f.cameras.len()].join(",");
        let mut args: Vec<rusqlite::types::Value> =
            f.cameras.iter().cloned().map(Into::into).collect();
        let mut sql = format!(
            "SELECT e.id, e.camera, e.start_us, e.end_us, e.peak, e.peak_us, e.bbox, e.zones, \
             r.event_id IS NOT NULL FROM events e \
             LEFT JOIN event_reviews r ON r.event_id = e.id AND r.user_id = ? \
             WHERE e.camera IN ({marks}) AND e.end_us > ? AND e.start_us < ?"
        );
        args.insert(0, f.user_id.into());
        args.push(f.from_us.into());
        args.push(f.to_us.into());
        if let Some(z) = &f.zone {
            sql.push_str(" AND (',' || e.zones || ',') LIKE ('%,' || ? || ',%')");
            args.push(z.clone().into());
        }
        if let Some((start, id)) = f.before {
            sql.push_str(" AND (e.start_us < ? OR (e.start_us = ? AND e.id < ?))");
            args.extend([start.into(), start.into(), id.into()]);
        }
        sql.push_str(" ORDER BY e.start_us DESC, e.id DESC LIMIT ?");
        args.push(f.limit.clamp(1, 500).into());
        let mut stmt = c.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            Ok((event_from_row(r)?, r.get::<_, bool>(8)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks an event of `camera` reviewed (or not) for a user; false when there
    /// is no such event.
    pub fn set_reviewed(
        &self,
        user_id: i64,
        camera: &str,
        id: i64,
        reviewed: bool,
    ) -> Result<bool> {
        let c = self.conn();
        let exists: bool = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM events WHERE id = ?1 AND camera = ?2)",
            params![id, camera],
            |r| r.get(0),
        )?;
        if exists {
            if reviewed {
                c.execute(
                    "INSERT OR IGNORE INTO event_reviews (user_id, event_id) VALUES (?1, ?2)",
                    params![user_id, id],
                )?;
            } else {
                c.execute(
                    "DELETE FROM event_reviews WHERE user_id = ?1 AND event_id = ?2",
                    params![user_id, id],
                )?;
            }
        }
        Ok(exists)
    }

    /// Stores an event with its pictures (JPEG snapshot and thumbnail, sealed
    /// with data key `key_id` when footage is sealed), if any.
    pub fn insert_event(
        &self,
        e: &EventRow,
        pictures: Option<(&[u8], &[u8])>,
        key_id: Option<u64>,
    ) -> Result<i64> {
        let c = self.conn();
        c.execute(
            "INSERT INTO events (camera, start_us, end_us, peak, peak_us, bbox, zones, snapshot, thumb, key_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                e.camera,
                e.start_us,
                e.end_us,
                e.peak,
                e.peak_us,
                e.bbox,
                e.zones.join(","),
                pictures.map(|p| p.0),
                pictures.map(|p| p.1),
                key_id.and_then(|k| i64::try_from(k).ok())
            ],
        )?;
        Ok(c.last_insert_rowid())
    }

    /// An event's snapshot (`thumb` false) or thumbnail, when the event is the camera's.
    pub fn event_picture(&self, camera: &str, id: i64, thumb: bool) -> Result<Option<Vec<u8>>> {
        let col = if thumb { "thumb" } else { "snapshot" };
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {col} FROM events WHERE id = ?1 AND camera = ?2"),
                params![id, camera],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten())
    }

    /// One event of a camera.
    pub fn event(&self, camera: &str, id: i64) -> Result<Option<EventRow>> {
        Ok(self
            .events_where("camera = ?1 AND id = ?2", params![camera, id])?
            .into_iter()
            .next())
    }

    /// Events of a camera overlapping `[from_us, to_us)`, oldest first.
    pub fn events_between(&self, camera: &str, from_us: i64, to_us: i64) -> Result<Vec<EventRow>> {
        self.events_where(
            "camera = ?1 AND end_us > ?2 AND start_us < ?3",
            params![camera, from_us, to_us],
        )
    }

    fn events_where(&self, filter: &str, args: impl rusqlite::Params) -> Result<Vec<EventRow>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(&format!(
            "SELECT id, camera, start_us, end_us, peak, peak_us, bbox, zones FROM events \
             WHERE {filter} ORDER BY start_us"
        ))?;
        let rows = stmt.query_map(args, event_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes events (snapshots included) and activity that ended before `before_us`.
    pub fn delete_events_before(&self, before_us: i64) -> Result<usize> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        let n = tx.execute("DELETE FROM events WHERE end_us < ?1", [before_us])?;
        tx.execute(
            "DELETE FROM activity WHERE second < ?1",
            [before_us.div_euclid(1_000_000)],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Stores activity levels: (second since 1970, level 0..1).
    pub fn add_activity(&self, camera: &str, levels: &[(i64, f32)]) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        for (s, l) in levels {
            tx.execute(
                "INSERT INTO activity (camera, second, level) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (camera, second) DO UPDATE SET level = max(level, excluded.level)",
                params![camera, s, l],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn activity_between(
        &self,
        camera: &str,
        from_s: i64,
        to_s: i64,
    ) -> Result<Vec<(i64, f32)>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(
            "SELECT second, level FROM activity WHERE camera = ?1 AND second >= ?2 AND second < ?3 \
             ORDER BY second",
        )?;
        let rows = stmt.query_map(params![camera, from_s, to_s], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(camera: &str, start_us: i64, end_us: i64) -> EventRow {
        EventRow {
            id: 0,
            camera: camera.into(),
            start_us,
            end_us,
            peak: 0.1,
            peak_us: start_us,
            bbox: Some("0.1,0.1,0.5,0.5".into()),
            zones: vec!["drive".into()],
        }
    }

    #[test]
    fn events_pictures_activity_and_their_retention() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        let old = store
            .insert_event(
                &event("a", 1_000_000, 5_000_000),
                Some((b"full", b"thumb")),
                None,
            )
            .unwrap();
        let new = store
            .insert_event(&event("a", 100_000_000, 105_000_000), None, None)
            .unwrap();
        store
            .insert_event(&event("b", 1_000_000, 5_000_000), None, None)
            .unwrap();
        store
            .add_activity("a", &[(1, 0.2), (2, 0.5), (100, 0.1)])
            .unwrap();
        store.add_activity("a", &[(2, 0.3)]).unwrap();
        assert_eq!(
            store.activity_between("a", 0, 200).unwrap(),
            vec![(1, 0.2), (2, 0.5), (100, 0.1)]
        );
        let all = store.events_between("a", 0, i64::MAX).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].zones, vec!["drive".to_string()]);
        assert_eq!(
            store.event_picture("a", old, true).unwrap().as_deref(),
            Some(&b"thumb"[..])
        );
        assert_eq!(
            store.event_picture("b", old, false).unwrap(),
            None,
            "another camera's event"
        );
        assert_eq!(
            store.event_picture("a", new, false).unwrap(),
            None,
            "no picture"
        );
        assert_eq!(store.delete_events_before(50_000_000).unwrap(), 2);
        assert_eq!(store.events_between("a", 0, i64::MAX).unwrap().len(), 1);
        assert_eq!(
            store.activity_between("a", 0, 200).unwrap(),
            vec![(100, 0.1)]
        );
    }

    #[test]
    fn events_across_cameras_filtered_paged_and_reviewed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        store
            .add_user("ann", crate::store::Role::Viewer, "x", &[], 0)
            .unwrap();
        let ann = store.users().unwrap()[0].id;
        let mut ids = Vec::new();
        for (i, cam) in ["a", "b", "c", "a"].iter().enumerate() {
            let t = (i as i64 + 1) * 10_000_000;
            let mut e = event(cam, t, t + 5_000_000);
            if i == 3 {
                e.zones = vec!["porch".into(), "driveway".into()];
            }
            ids.push(store.insert_event(&e, None, None).unwrap());
        }
        let f = EventFilter {
            cameras: vec!["a".into(), "b".into()],
            from_us: 0,
            to_us: i64::MAX,
            limit: 10,
            user_id: ann,
            ..Default::default()
        };
        let got = |f: &EventFilter| -> Vec<(i64, bool)> {
            store
                .events_filtered(f)
                .unwrap()
                .into_iter()
                .map(|(e, r)| (e.id, r))
                .collect()
        };
        // Newest first, only the cameras asked for.
        assert_eq!(
            got(&f),
            vec![(ids[3], false), (ids[1], false), (ids[0], false)]
        );
        // A zone matches whole names only.
        let zoned = EventFilter {
            zone: Some("porch".into()),
            ..f.clone()
        };
        assert_eq!(got(&zoned), vec![(ids[3], false)]);
        let part = EventFilter {
            zone: Some("drive".into()),
            ..f.clone()
        };
        assert_eq!(got(&part), vec![(ids[1], false), (ids[0], false)]);
        // Paging: after the newest, the rest.
        let page = EventFilter {
            before: Some((40_000_000, ids[3])),
            limit: 1,
            ..f.clone()
        };
        assert_eq!(got(&page), vec![(ids[1], false)]);
        // A review mark is the user's own, and only for the camera's own event.
        assert!(store.set_reviewed(ann, "b", ids[1], true).unwrap());
        assert!(!store.set_reviewed(ann, "a", ids[1], true).unwrap());
        assert_eq!(got(&f)[1], (ids[1], true));
        assert_eq!(
            got(&EventFilter {
                user_id: ann + 1,
                ..f.clone()
            })[1],
            (ids[1], false)
        );
        store.set_reviewed(ann, "b", ids[1], false).unwrap();
        assert_eq!(got(&f)[1], (ids[1], false));
        // Retention takes the marks with the events.
        store.set_reviewed(ann, "a", ids[0], true).unwrap();
        store.delete_events_before(i64::MAX).unwrap();
        assert!(got(&f).is_empty());
    }
}
