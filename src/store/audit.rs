//! The audit log table: appends chained entries, reads them back. Triggers in the
//! schema refuse updates and deletes; the hash chain catches edits made around them.

use super::{Result, Store};
use crate::audit_record::{self as audit, Entry, GENESIS, Hash, Record};
use rusqlite::{OptionalExtension, params};

/// A stored hash; one of another length is a corrupt entry (column `col`), never
/// read as zeros.
fn to_hash(v: Vec<u8>, col: usize) -> rusqlite::Result<Hash> {
    v.try_into().map_err(|v: Vec<u8>| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            rusqlite::types::Type::Blob,
            format!("an audit hash of {} bytes, not 32", v.len()).into(),
        )
    })
}

impl Store {
    /// The last entry's id and hash.
    pub fn audit_head(&self) -> Result<Option<(i64, Hash)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, to_hash(r.get(1)?, 1)?)),
            )
            .optional()?)
    }

    /// Appends an entry, durably (synced before it returns, so the head file
    /// written after it never names an entry a power cut could lose); returns its
    /// id and hash (the new head of the chain).
    pub fn append_audit(&self, r: &Record) -> Result<(i64, Hash)> {
        let mut c = self.durable()?;
        Self::append_in(&mut c, r)
    }

    fn append_in(c: &mut rusqlite::Connection, r: &Record) -> Result<(i64, Hash)> {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(i64, Hash)> = tx
            .query_row(
                "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, to_hash(r.get(1)?, 1)?)),
            )
            .optional()?;
        let (id, prev) = last.map_or((1, GENESIS), |(id, h)| (id + 1, h));
        let h = audit::hash(&prev, id, r);
        tx.execute(
            "INSERT INTO audit (id, time_us, user, address, action, camera, from_us, to_us, detail, \
             prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id, r.time_us, r.user, r.address, r.action, r.camera, r.from_us, r.to_us, r.detail,
                &prev[..], &h[..]
            ],
        )?;
        tx.commit()?;
        Ok((id, h))
    }

    /// Entries oldest first; only `user`'s when given; at most `limit`, newest kept.
    pub fn audit_entries(&self, user: Option<&str>, limit: i64) -> Result<Vec<Entry>> {
        let mut rows = self.audit_filtered(&AuditFilter {
            user: user.map(str::to_owned),
            limit,
            ..AuditFilter::default()
        })?;
        rows.reverse();
        Ok(rows)
    }

    /// Entries newest first that match every part of `f` given.
    pub fn audit_filtered(&self, f: &AuditFilter) -> Result<Vec<Entry>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(&format!(
            "{ENTRY} WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR camera = ?2) \
             AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR time_us >= ?4) \
             AND (?5 IS NULL OR time_us < ?5) AND (?6 IS NULL OR id < ?6) \
             ORDER BY id DESC LIMIT ?7"
        ))?;
        let rows = stmt
            .query_map(
                params![
                    f.user,
                    f.camera,
                    f.action,
                    f.from_us,
                    f.to_us,
                    f.before_id,
                    f.limit
                ],
                entry,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Entries of any of `actions` about any of `cameras`, newest first, before
    /// entry `before_id` when given: who saw which camera's footage.
    pub fn audit_about(
        &self,
        cameras: &[String],
        actions: &[&str],
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Entry>> {
        let json = |v: Vec<&str>| serde_json::to_string(&v).unwrap_or_else(|_| "[]".into());
        let cams = json(cameras.iter().map(String::as_str).collect());
        let acts = json(actions.to_vec());
        let c = self.conn();
        let mut stmt = c.prepare_cached(&format!(
            "{ENTRY} WHERE camera IN (SELECT value FROM json_each(?1)) \
             AND action IN (SELECT value FROM json_each(?2)) AND (?3 IS NULL OR id < ?3) \
             ORDER BY id DESC LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(params![cams, acts, before_id, limit], entry)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

const ENTRY: &str = "SELECT id, time_us, user, address, action, camera, from_us, to_us, detail, \
                     prev_hash, hash FROM audit";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        record: Record {
            time_us: r.get(1)?,
            user: r.get(2)?,
            address: r.get(3)?,
            action: r.get(4)?,
            camera: r.get(5)?,
            from_us: r.get(6)?,
            to_us: r.get(7)?,
            detail: r.get(8)?,
        },
        prev_hash: to_hash(r.get(9)?, 9)?,
        hash: to_hash(r.get(10)?, 10)?,
    })
}

/// Which audit entries a page shows.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub camera: Option<String>,
    pub action: Option<String>,
    /// Entries written in `[from_us, to_us)`.
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    /// The page after this entry, for paging back in time.
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_filtered_by_user_camera_action_and_time_in_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        for (i, (user, action, camera)) in [
            ("ann", "playback", Some("porch")),
            ("bob", "playback", Some("porch")),
            ("ann", "login", None),
            ("ann", "playback", Some("yard")),
            ("ann", "playback", Some("porch")),
        ]
        .into_iter()
        .enumerate()
        {
            store
                .append_audit(&Record {
                    time_us: (i as i64 + 1) * 100,
                    user: Some(user.into()),
                    action: action.into(),
                    camera: camera.map(str::to_owned),
                    ..Record::default()
                })
                .unwrap();
        }
        let ids = |f: AuditFilter| -> Vec<i64> {
            store
                .audit_filtered(&AuditFilter { limit: 10, ..f })
                .unwrap()
                .iter()
                .map(|e| e.id)
                .collect()
        };
        let anns_porch = AuditFilter {
            user: Some("ann".into()),
            camera: Some("porch".into()),
            action: Some("playback".into()),
            ..AuditFilter::default()
        };
        assert_eq!(ids(anns_porch.clone()), [5, 1]);
        let f = AuditFilter {
            from_us: Some(200),
            to_us: Some(500),
            ..AuditFilter::default()
        };
        assert_eq!(ids(f.clone()), [4, 3, 2]);
        let page = AuditFilter {
            before_id: Some(4),
            ..f
        };
        assert_eq!(ids(page), [3, 2]);
        let one = store
            .audit_filtered(&AuditFilter {
                limit: 1,
                ..anns_porch
            })
            .unwrap();
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn a_malformed_hash_is_an_error_not_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        let r = Record {
            action: "login".into(),
            ..Record::default()
        };
        store.append_audit(&r).unwrap();
        store
            .conn()
            .execute_batch(
                "DROP TRIGGER audit_append_only_update; UPDATE audit SET hash = x'0102';",
            )
            .unwrap();
        assert!(store.audit_entries(None, 10).is_err());
        assert!(store.audit_head().is_err());
        assert!(store.append_audit(&r).is_err(), "no entry chained to zeros");
    }
}
