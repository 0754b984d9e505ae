//! SQLite: the index of recordings. This module owns every SQL statement; the
//! rest of Hearth calls its typed functions.
//!
//! One connection behind a mutex, in WAL mode. Callers run off the async runtime
//! (recorder threads, `spawn_blocking`).

mod audit;
mod data_keys;
mod events;
pub mod exports;
pub mod fragments;
mod migrations;
pub mod privacy;
pub mod switches;
mod users;

use crate::config::StreamKind;
pub use audit::AuditFilter;
pub use events::{EventFilter, EventRow};
pub use fragments::FragIndex;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
pub use users::{EndReason, Role, SessionInfo, SessionRow, UserRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database {path}: {message}")]
    Open { path: String, message: String },
    #[error("corrupt index entry for segment {0}")]
    Corrupt(i64),
}

impl StoreError {
    /// SQLite found no room on the disk for the change.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DiskFull)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Where a segment is in its life. Deleting is the crash-safe mark before unlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentState {
    Open = 0,
    Complete = 1,
    Deleting = 2,
}

impl SegmentState {
    /// A state the index may hold; any other number is a corrupt row, never
    /// taken as complete (retention would treat it as footage it may delete).
    fn from_i64(v: i64) -> rusqlite::Result<SegmentState> {
        match v {
            0 => Ok(SegmentState::Open),
            1 => Ok(SegmentState::Complete),
            2 => Ok(SegmentState::Deleting),
            _ => Err(rusqlite::Error::FromSqlConversionFailure(
                14,
                rusqlite::types::Type::Integer,
                format!("segment state {v}").into(),
            )),
        }
    }
}

/// What kind of recording a segment is, for retention by class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentClass {
    /// Recorded all the time.
    Continuous,
    /// Recorded around motion (motion-only mode).
    Motion,
}

impl SegmentClass {
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentClass::Continuous => "continuous",
            SegmentClass::Motion => "motion",
        }
    }

    /// The class a row holds; any other text is a corrupt row.
    fn from_sql(v: &str) -> rusqlite::Result<SegmentClass> {
        match v {
            "continuous" => Ok(SegmentClass::Continuous),
            "motion" => Ok(SegmentClass::Motion),
            _ => Err(rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                format!("segment class {v:?}").into(),
            )),
        }
    }
}

/// A new segment, inserted when its file is created.
#[derive(Clone, Debug)]
pub struct NewSegment {
    pub stream_id: i64,
    pub start_us: i64,
    pub path: String,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub sample_entry: Vec<u8>,
    pub audio: Option<AudioTrackInfo>,
    pub bytes: u64,
    pub class: SegmentClass,
    /// The data key of a sealed file.
    pub key_id: Option<u64>,
}

/// A segment's audio track: its sample entry and timescale (samples per second).
#[derive(Clone, Debug)]
pub struct AudioTrackInfo {
    pub sample_entry: Vec<u8>,
    pub timescale: u32,
}

/// What is known of a segment's contents so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub duration_90k: u64,
    pub bytes: u64,
    pub frames: u64,
    pub fragments: Vec<FragIndex>,
}

/// A camera's recordings in all.
#[derive(Clone, Debug)]
pub struct CameraUsage {
    pub camera: String,
    pub segments: u64,
    pub bytes: u64,
    pub oldest_us: i64,
    pub newest_us: i64,
}

/// What retention needs to know of a segment.
#[derive(Clone, Debug)]
pub struct SegmentBrief {
    pub id: i64,
    pub class: SegmentClass,
    pub camera: String,
    pub start_us: i64,
    pub end_us: i64,
    pub bytes: u64,
    pub path: String,
}

#[derive(Clone, Debug)]
pub struct SegmentRow {
    pub id: i64,
    pub stream_id: i64,
    pub camera: String,
    pub stream: String,
    pub start_us: i64,
    pub path: String,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub sample_entry: Vec<u8>,
    /// The audio track's sample entry and timescale, when the segment has one.
    pub audio: Option<(Vec<u8>, u32)>,
    pub progress: Progress,
    pub state: SegmentState,
}

impl SegmentRow {
    pub fn end_us(&self) -> i64 {
        self.start_us + (self.progress.duration_90k as i64) * 1_000_000 / 90_000
    }
}

pub struct Store {
    conn: Mutex<Connection>,
}

/// See [`Store::durable`]: back to NORMAL when dropped.
struct Durable<'a>(MutexGuard<'a, Connection>);

impl std::ops::Deref for Durable<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl std::ops::DerefMut for Durable<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

impl Drop for Durable<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.pragma_update(None, "synchronous", "normal") {
            tracing::warn!("index: cannot return to synchronous=NORMAL: {e}");
        }
    }
}

const SEGMENT_COLUMNS: &str = "s.id, s.stream_id, c.name, st.kind, s.start_us, s.path, s.codec, \
     s.width, s.height, s.sample_entry, s.duration_90k, s.bytes, s.frames, s.fragments, s.state, \
     s.audio_sample_entry, s.audio_timescale";

fn segment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(SegmentRow, Vec<u8>)> {
    Ok((
        SegmentRow {
            id: r.get(0)?,
            stream_id: r.get(1)?,
            camera: r.get(2)?,
            stream: r.get(3)?,
            start_us: r.get(4)?,
            path: r.get(5)?,
            codec: r.get(6)?,
            width: r.get(7)?,
            height: r.get(8)?,
            sample_entry: r.get(9)?,
            audio: match (
                r.get::<_, Option<Vec<u8>>>(15)?,
                r.get::<_, Option<u32>>(16)?,
            ) {
                (Some(e), Some(t)) => Some((e, t)),
                _ => None,
            },
            progress: Progress {
                duration_90k: r.get::<_, i64>(10)? as u64,
                bytes: r.get::<_, i64>(11)? as u64,
                frames: r.get::<_, i64>(12)? as u64,
                fragments: Vec::new(),
            },
            state: SegmentState::from_i64(r.get(14)?)?,
        },
        r.get(13)?,
    ))
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "normal")?;
        conn.pragma_update(None, "foreign_keys", "on")?;
        // Deleted content is overwritten, so a shredded data key leaves no copy.
        conn.pragma_update(None, "secure_delete", "on")?;
        migrations::apply(&mut conn).map_err(open_err)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// The most memory the connection keeps of the file's pages (SQLite's
    /// `cache_size`), in bytes.
    pub fn set_cache_size(&self, bytes: u64) -> Result<()> {
        let kib = i64::try_from(bytes / 1024).unwrap_or(i64::MAX).max(1);
        Ok(self.conn().pragma_update(None, "cache_size", -kib)?)
    }

    /// How long a statement waits for another process's lock on the file before
    /// it fails as busy (10 s unless changed).
    pub fn set_busy_timeout(&self, wait: std::time::Duration) -> Result<()> {
        Ok(self.conn().busy_timeout(wait)?)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements are
        // atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection with `synchronous=FULL` while the guard lives: for
    /// transactions a power cut must not take back once they returned (the audit
    /// log, users and their sessions). Recording's frequent small updates keep
    /// NORMAL: WAL keeps them atomic, and the files are their truth.
    fn durable(&self) -> Result<Durable<'_>> {
        let c = self.conn();
        c.pragma_update(None, "synchronous", "full")?;
        Ok(Durable(c))
    }

    /// The identity of the data directory this index belongs to, once set.
    pub fn data_id(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'data_id'", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_data_id(&self, id: &str) -> Result<()> {
        self.durable()?.execute(
            "INSERT INTO meta (key, value) VALUES ('data_id', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [id],
        )?;
        Ok(())
    }

    /// SQLite's own check of the file: empty when it is sound, else what it found
    /// (at most 20 lines).
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        let c = self.conn();
        let mut stmt = c.prepare("PRAGMA integrity_check(20)")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(lines.into_iter().filter(|l| l != "ok").collect())
    }

    /// The id of a camera's stream, creating camera and stream rows if needed.
    pub fn stream_id(&self, camera: &str, kind: StreamKind) -> Result<i64> {
        let kind = kind.as_str();
        let c = self.conn();
        c.execute(
            "INSERT INTO cameras (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
            [camera],
        )?;
        c.execute(
            "INSERT INTO streams (camera_id, kind) SELECT id, ?2 FROM cameras WHERE name = ?1 \
             ON CONFLICT (camera_id, kind) DO NOTHING",
            [camera, kind],
        )?;
        Ok(c.query_row(
            "SELECT st.id FROM streams st JOIN cameras c ON c.id = st.camera_id \
             WHERE c.name = ?1 AND st.kind = ?2",
            [camera, kind],
            |r| r.get(0),
        )?)
    }

    /// Gives `old`'s history to `new` in one transaction: its segments (their
    /// files stay where they are; the index ties them to the new name), events,
    /// activity, exports and who may see it. `new` may already have history of its
    /// own: the two are merged. Recording under `old` must have stopped.
    pub fn rename_camera(&self, old: &str, new: &str) -> Result<()> {
        let mut c = self.durable()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO cameras (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
            [new],
        )?;
        tx.execute(
            "INSERT INTO streams (camera_id, kind) \
             SELECT n.id, st.kind FROM streams st JOIN cameras o ON o.id = st.camera_id, cameras n \
             WHERE o.name = ?1 AND n.name = ?2 ON CONFLICT (camera_id, kind) DO NOTHING",
            [old, new],
        )?;
        tx.execute(
            "UPDATE segments SET stream_id = ( \
                 SELECT ns.id FROM streams os JOIN streams ns ON ns.kind = os.kind \
                 JOIN cameras n ON n.id = ns.camera_id \
                 WHERE os.id = segments.stream_id AND n.name = ?2) \
             WHERE stream_id IN (SELECT st.id FROM streams st JOIN cameras o ON o.id = st.camera_id \
                                 WHERE o.name = ?1)",
            [old, new],
        )?;
        tx.execute(
            "DELETE FROM streams WHERE camera_id IN (SELECT id FROM cameras WHERE name = ?1)",
            [old],
        )?;
        tx.execute("DELETE FROM cameras WHERE name = ?1", [old])?;
        tx.execute(
            "UPDATE events SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.execute(
            "UPDATE OR REPLACE activity SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.execute(
            "UPDATE OR IGNORE user_cameras SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.execute("DELETE FROM user_cameras WHERE camera = ?1", [old])?;
        tx.execute(
            "UPDATE exports SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.execute(
            "UPDATE OR REPLACE recording_off SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.execute(
            "UPDATE OR REPLACE privacy_override SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.execute(
            "UPDATE privacy_periods SET camera = ?2 WHERE camera = ?1",
            [old, new],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn insert_segment(&self, s: &NewSegment) -> Result<i64> {
        let c = self.conn();
        c.execute(
            "INSERT INTO segments (stream_id, start_us, path, codec, width, height, sample_entry, \
             bytes, audio_sample_entry, audio_timescale, class, key_id, duration_90k, frames, fragments, state) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, 0, x'', 0)",
            params![
                s.stream_id,
                s.start_us,
                s.path,
                s.codec,
                s.width,
                s.height,
                s.sample_entry,
                s.bytes as i64,
                s.audio.as_ref().map(|a| &a.sample_entry),
                s.audio.as_ref().map(|a| a.timescale),
                s.class.as_str(),
                s.key_id.and_then(|k| i64::try_from(k).ok())
            ],
        )?;
        Ok(c.last_insert_rowid())
    }

    pub fn update_segment(&self, id: i64, p: &Progress, state: SegmentState) -> Result<()> {
        self.conn().execute(
            "UPDATE segments SET duration_90k = ?2, bytes = ?3, frames = ?4, fragments = ?5, \
             state = ?6 WHERE id = ?1",
            params![
                id,
                p.duration_90k as i64,
                p.bytes as i64,
                p.frames as i64,
                fragments::encode(&p.fragments),
                state as i64
            ],
        )?;
        Ok(())
    }

    fn query_segments(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<SegmentRow>> {
        let c = self.conn();
        let sql = format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream_id \
             JOIN cameras c ON c.id = st.camera_id {filter}"
        );
        let mut stmt = c.prepare_cached(&sql)?;
        let rows = stmt.query_map(args, segment_from_row)?;
        let mut out = Vec::new();
        for r in rows {
            let (mut row, blob) = r?;
            row.progress.fragments = fragments::decode(&blob).ok_or(StoreError::Corrupt(row.id))?;
            out.push(row);
        }
        Ok(out)
    }

    /// Bytes recorded per camera (segments being written included, those being
    /// deleted not).
    pub fn bytes_per_camera(&self) -> Result<std::collections::HashMap<String, u64>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(
            "SELECT c.name, sum(s.bytes) FROM segments s JOIN streams st ON st.id = s.stream_id \
             JOIN cameras c ON c.id = st.camera_id WHERE s.state != 2 GROUP BY c.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Per camera: what is recorded, segments being written included.
    pub fn usage_per_camera(&self) -> Result<Vec<CameraUsage>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(
            "SELECT c.name, count(*), sum(s.bytes), min(s.start_us), \
             max(s.start_us + s.duration_90k * 100 / 9) FROM segments s \
             JOIN streams st ON st.id = s.stream_id JOIN cameras c ON c.id = st.camera_id \
             WHERE s.state != 2 GROUP BY c.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CameraUsage {
                camera: r.get(0)?,
                segments: r.get::<_, i64>(1)? as u64,
                bytes: r.get::<_, i64>(2)? as u64,
                oldest_us: r.get(3)?,
                newest_us: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Bytes each camera recorded in segments begun since `since_us`, and when
    /// the first of them began: its current rate of filling the disk.
    pub fn bytes_since(
        &self,
        since_us: i64,
    ) -> Result<std::collections::HashMap<String, (u64, i64)>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(
            "SELECT c.name, sum(s.bytes), min(s.start_us) FROM segments s \
             JOIN streams st ON st.id = s.stream_id JOIN cameras c ON c.id = st.camera_id \
             WHERE s.state != 2 AND s.start_us >= ?1 GROUP BY c.name",
        )?;
        let rows = stmt.query_map([since_us], |r| {
            let bytes = u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0);
            Ok((r.get::<_, String>(0)?, (bytes, r.get::<_, i64>(2)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The oldest complete segments of each camera, at most `per_camera` each, without
    /// their fragment index: what retention considers in one pass.
    pub fn oldest_segments(&self, per_camera: i64) -> Result<Vec<SegmentBrief>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(
            "SELECT id, name, start_us, end_us, bytes, path, class FROM (\
               SELECT s.id, c.name, s.start_us, s.start_us + s.duration_90k * 100 / 9 AS end_us, \
                 s.bytes, s.path, s.class, row_number() OVER (PARTITION BY c.id ORDER BY s.start_us) AS n \
               FROM segments s JOIN streams st ON st.id = s.stream_id \
               JOIN cameras c ON c.id = st.camera_id WHERE s.state = 1) \
             WHERE n <= ?1 ORDER BY start_us, id",
        )?;
        let rows = stmt.query_map([per_camera], |r| {
            Ok(SegmentBrief {
                id: r.get(0)?,
                camera: r.get(1)?,
                start_us: r.get(2)?,
                end_us: r.get(3)?,
                bytes: r.get::<_, i64>(4)? as u64,
                path: r.get(5)?,
                class: SegmentClass::from_sql(&r.get::<_, String>(6)?)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Segments not known to be complete (being written, or being deleted).
    pub fn unfinished_segments(&self) -> Result<Vec<SegmentRow>> {
        self.query_segments("WHERE s.state != 1 ORDER BY s.start_us, s.id", &[])
    }

    /// Every segment, oldest first.
    pub fn all_segments(&self) -> Result<Vec<SegmentRow>> {
        self.query_segments("ORDER BY s.start_us, s.id", &[])
    }

    pub fn segment_by_path(&self, path: &str) -> Result<Option<SegmentRow>> {
        Ok(self
            .query_segments("WHERE s.path = ?1", &[&path])?
            .into_iter()
            .next())
    }

    /// Segments of one camera stream that overlap `[from_us, to_us)`, in time order.
    pub fn segments_between(
        &self,
        camera: &str,
        stream: StreamKind,
        from_us: i64,
        to_us: i64,
    ) -> Result<Vec<SegmentRow>> {
        let stream = stream.as_str();
        // A segment is at most four hours long (the segmenter's cap); bound the
        // scan by start time.
        let rows = self.query_segments(
            "WHERE c.name = ?1 AND st.kind = ?2 AND s.state != 2 AND s.start_us < ?4 \
             AND s.start_us >= ?3 - 86400000000 ORDER BY s.start_us, s.id",
            &[&camera, &stream, &from_us, &to_us],
        )?;
        Ok(rows.into_iter().filter(|r| r.end_us() > from_us).collect())
    }

    pub fn set_state(&self, ids: &[i64], state: SegmentState) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE segments SET state = ?2 WHERE id = ?1",
                params![id, state as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn delete_segments(&self, ids: &[i64]) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        for id in ids {
            tx.execute("DELETE FROM segments WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_writes_sync_fully_and_the_rest_stays_normal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        let level = |c: &Connection| -> i64 {
            c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap()
        };
        assert_eq!(level(&store.conn()), 1, "NORMAL by default");
        {
            let d = store.durable().unwrap();
            assert_eq!(level(&d), 2, "FULL inside");
        }
        assert_eq!(level(&store.conn()), 1, "NORMAL again");
        assert!(store.integrity_problems().unwrap().is_empty());
        assert_eq!(store.data_id().unwrap(), None);
        store.set_data_id("ab").unwrap();
        assert_eq!(store.data_id().unwrap().as_deref(), Some("ab"));
    }

    #[test]
    fn a_renamed_camera_keeps_its_history_merged_with_the_new_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        let segment = |camera: &str, kind, start_us| {
            let stream_id = store.stream_id(camera, kind).unwrap();
            store
                .insert_segment(&NewSegment {
                    stream_id,
                    start_us,
                    path: format!("recordings/{camera}/{kind}/{start_us}.mp4"),
                    codec: "avc1.4d401f".into(),
                    width: 640,
                    height: 360,
                    sample_entry: vec![1],
                    audio: None,
                    bytes: 10,
                    class: SegmentClass::Continuous,
                    key_id: None,
                })
                .unwrap();
        };
        segment("front", StreamKind::Main, 1_000);
        segment("front", StreamKind::Sub, 1_000);
        // The new name has a recording of its own already.
        segment("door", StreamKind::Main, 9_000);
        {
            let c = store.conn();
            c.execute_batch(
                "INSERT INTO events (camera, start_us, end_us, peak, peak_us, zones) \
                     VALUES ('front', 1, 2, 0.5, 1, ''); \
                 INSERT INTO activity (camera, second, level) VALUES ('front', 7, 0.2), ('door', 7, 0.9); \
                 INSERT INTO users (name, role, password_hash, created_us) VALUES ('ann', 'viewer', 'x', 0); \
                 INSERT INTO user_cameras (user_id, camera) VALUES (1, 'front');",
            )
            .unwrap();
        }
        store.rename_camera("front", "door").unwrap();
        let segs = store.all_segments().unwrap();
        assert_eq!(segs.len(), 3);
        assert!(segs.iter().all(|s| s.camera == "door"), "{segs:?}");
        assert!(segs.iter().any(|s| s.path.starts_with("recordings/front/")));
        let c = store.conn();
        let names: Vec<String> = c
            .prepare("SELECT name FROM cameras")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(names, ["door"]);
        let one = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(one("SELECT count(*) FROM events WHERE camera = 'door'"), 1);
        assert_eq!(one("SELECT count(*) FROM activity"), 1);
        assert_eq!(
            one("SELECT count(*) FROM user_cameras WHERE camera = 'door'"),
            1
        );
        assert_eq!(one("SELECT count(*) FROM streams"), 2);
    }

    #[test]
    fn an_unknown_segment_state_is_corrupt_not_complete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        let stream = store.stream_id("front", StreamKind::Main).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO segments (stream_id, start_us, duration_90k, bytes, frames, path, \
                 codec, width, height, sample_entry, fragments, state) \
                 VALUES (?1, 0, 90000, 100, 15, 'x.mp4', 'avc1', 640, 360, x'', x'', 7)",
                [stream],
            )
            .unwrap();
        assert!(store.all_segments().is_err());
    }
}
