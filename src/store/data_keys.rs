//! Wrapped data keys of sealed files (see `seal` and `record::footage`), and
//! the fingerprint of the master key that wrapped them. The triggers of
//! migration 15 delete a key with the row that used it; `secure_delete` (set
//! when the index opens) overwrites what is deleted.

use super::{Result, Store};
use rusqlite::{OptionalExtension, params};

fn sql_id(id: u64) -> i64 {
    // Ids are minted below 2^63.
    i64::try_from(id).unwrap_or(i64::MAX)
}

impl Store {
    /// Stores a new wrapped key durably; `false` when the number is taken.
    pub fn insert_data_key(&self, id: u64, wrapped: &[u8]) -> Result<bool> {
        let now = chrono::Utc::now().timestamp_micros();
        let n = self.durable()?.execute(
            "INSERT OR IGNORE INTO data_keys (id, wrapped, created_us) VALUES (?1, ?2, ?3)",
            params![sql_id(id), wrapped, now],
        )?;
        Ok(n == 1)
    }

    pub fn data_key(&self, id: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT wrapped FROM data_keys WHERE id = ?1",
                [sql_id(id)],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn data_key_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM data_keys", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Deletes keys no row uses (minted ahead and never used, or left by a
    /// crash between minting and indexing); run before anything is written.
    pub fn forget_unused_keys(&self) -> Result<usize> {
        Ok(self.durable()?.execute(
            "DELETE FROM data_keys WHERE id NOT IN \
             (SELECT key_id FROM segments WHERE key_id IS NOT NULL \
              UNION SELECT key_id FROM events WHERE key_id IS NOT NULL \
              UNION SELECT key_id FROM exports WHERE key_id IS NOT NULL)",
            [],
        )?)
    }

    /// Every wrapped key, for re-wrapping under a new master key.
    pub fn all_data_keys(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        let c = self.conn();
        let mut st = c.prepare("SELECT id, wrapped FROM data_keys ORDER BY id")?;
        let rows = st.query_map([], |r| {
            Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replaces every wrapped key and the master key's fingerprint at once: the
    /// index moves to a new master key whole or not at all.
    pub fn rewrap_data_keys(&self, keys: &[(u64, Vec<u8>)], fingerprint: &str) -> Result<()> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        for (id, wrapped) in keys {
            let n = tx.execute(
                "UPDATE data_keys SET wrapped = ?2 WHERE id = ?1",
                params![sql_id(*id), wrapped],
            )?;
            if n != 1 {
                return Err(rusqlite::Error::QueryReturnedNoRows.into());
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('master_key', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [fingerprint],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Notes the data key segment `id`'s file is now sealed with (durably,
    /// before the sealed file replaces the plain one).
    pub fn set_segment_key(&self, id: i64, key_id: u64) -> Result<()> {
        self.durable()?.execute(
            "UPDATE segments SET key_id = ?2 WHERE id = ?1",
            params![id, sql_id(key_id)],
        )?;
        Ok(())
    }

    /// Events whose pictures are kept plain: (id, camera).
    pub fn events_with_plain_pictures(&self) -> Result<Vec<(i64, String)>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT id, camera FROM events WHERE key_id IS NULL \
             AND (snapshot IS NOT NULL OR thumb IS NOT NULL) ORDER BY id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replaces an event's pictures with their sealed forms and notes their key.
    pub fn set_event_pictures(
        &self,
        id: i64,
        snapshot: &[u8],
        thumb: &[u8],
        key_id: u64,
    ) -> Result<()> {
        self.durable()?.execute(
            "UPDATE events SET snapshot = ?2, thumb = ?3, key_id = ?4 WHERE id = ?1",
            params![id, snapshot, thumb, sql_id(key_id)],
        )?;
        Ok(())
    }

    pub fn master_fingerprint(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'master_key'", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_master_fingerprint(&self, fingerprint: &str) -> Result<()> {
        self.durable()?.execute(
            "INSERT INTO meta (key, value) VALUES ('master_key', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [fingerprint],
        )?;
        Ok(())
    }

    /// Moves what the write-ahead log holds into the index file and empties it,
    /// so deleted keys linger in neither (after retention shredded some).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_goes_with_its_segment_and_unused_ones_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("i.db")).unwrap();
        assert!(s.insert_data_key(7, b"wrapped-seven").unwrap());
        assert!(!s.insert_data_key(7, b"again").unwrap());
        assert!(s.insert_data_key(8, b"wrapped-eight").unwrap());
        let stream = s.stream_id("cam", crate::config::StreamKind::Main).unwrap();
        let seg = |path: &str, key| crate::store::NewSegment {
            stream_id: stream,
            start_us: 1,
            path: path.into(),
            codec: "avc1".into(),
            width: 1,
            height: 1,
            sample_entry: vec![],
            audio: None,
            bytes: 0,
            class: crate::store::SegmentClass::Continuous,
            key_id: key,
        };
        let a = s.insert_segment(&seg("a.mp4", Some(7))).unwrap();
        s.insert_segment(&seg("b.mp4", None)).unwrap();
        assert_eq!(s.forget_unused_keys().unwrap(), 1, "8 was never used");
        assert_eq!(
            s.data_key(7).unwrap().as_deref(),
            Some(&b"wrapped-seven"[..])
        );
        s.set_state(&[a], crate::store::SegmentState::Deleting)
            .unwrap();
        assert_eq!(s.data_key(7).unwrap(), None, "shredded when marked");
        assert_eq!(s.data_key_count().unwrap(), 0);
        s.delete_segments(&[a]).unwrap();
    }
}
