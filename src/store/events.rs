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

impl Store {
    /// Stores an event with its pictures (JPEG snapshot and thumbnail), if any.
    pub fn insert_event(&self, e: &EventRow, pictures: Option<(&[u8], &[u8])>) -> Result<i64> {
        let c = self.conn();
        c.execute(
            "INSERT INTO events (camera, start_us, end_us, peak, peak_us, bbox, zones, snapshot, thumb) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                e.camera,
                e.start_us,
                e.end_us,
                e.peak,
                e.peak_us,
                e.bbox,
                e.zones.join(","),
                pictures.map(|p| p.0),
                pictures.map(|p| p.1)
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
        let rows = stmt.query_map(args, |r| {
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
        })?;
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
            .insert_event(&event("a", 1_000_000, 5_000_000), Some((b"full", b"thumb")))
            .unwrap();
        let new = store
            .insert_event(&event("a", 100_000_000, 105_000_000), None)
            .unwrap();
        store
            .insert_event(&event("b", 1_000_000, 5_000_000), None)
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
}
