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
