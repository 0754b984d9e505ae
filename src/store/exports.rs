//! Exports kept on the server: who asked for which range of which camera, how
//! big it is, and whether it is still being written, ready, or failed. The file
//! itself lives at `record::layout::export_path(id)`.

use super::{Result, Store};
use rusqlite::{OptionalExtension, params};

/// Where an export is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportState {
    Writing,
    Ready,
    Failed,
}

impl ExportState {
    fn from_i64(n: i64) -> ExportState {
        match n {
            0 => ExportState::Writing,
            1 => ExportState::Ready,
            _ => ExportState::Failed,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    pub id: i64,
    pub user_id: i64,
    pub camera: String,
    pub stream: String,
    pub from_us: i64,
    pub to_us: i64,
    pub created_us: i64,
    /// The file's length once written (known from the plan before).
    pub bytes: u64,
    pub state: ExportState,
    pub error: Option<String>,
}

/// What a new export is.
pub struct NewExport<'a> {
    pub user_id: i64,
    pub camera: &'a str,
    pub stream: &'a str,
    pub from_us: i64,
    pub to_us: i64,
    pub created_us: i64,
    pub bytes: u64,
}

const COLUMNS: &str =
    "id, user_id, camera, stream, from_us, to_us, created_us, bytes, state, error";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExportRow> {
    Ok(ExportRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        camera: r.get(2)?,
        stream: r.get(3)?,
        from_us: r.get(4)?,
        to_us: r.get(5)?,
        created_us: r.get(6)?,
        bytes: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
        state: ExportState::from_i64(r.get(8)?),
        error: r.get(9)?,
    })
}

impl Store {
    /// Records an export about to be written; its id names its file.
    pub fn export_add(&self, e: &NewExport<'_>) -> Result<i64> {
        let c = self.conn();
        c.execute(
            "INSERT INTO exports (user_id, camera, stream, from_us, to_us, created_us, bytes, state) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
            params![
                e.user_id,
                e.camera,
                e.stream,
                e.from_us,
                e.to_us,
                e.created_us,
                i64::try_from(e.bytes).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(c.last_insert_rowid())
    }

    /// An export written (`Ok`) or given up (`Err` with why).
    /// Notes the data key export `id`'s sealed file is written with, so removing
    /// the export shreds it.
    pub fn set_export_key(&self, id: i64, key_id: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE exports SET key_id = ?2 WHERE id = ?1",
            rusqlite::params![id, i64::try_from(key_id).unwrap_or(i64::MAX)],
        )?;
        Ok(())
    }

    pub fn export_finish(&self, id: i64, outcome: std::result::Result<(), &str>) -> Result<()> {
        let (state, error) = match outcome {
            Ok(()) => (1, None),
            Err(why) => (2, Some(why)),
        };
        self.conn().execute(
            "UPDATE exports SET state = ?2, error = ?3 WHERE id = ?1",
            params![id, state, error],
        )?;
        Ok(())
    }

    pub fn export(&self, id: i64) -> Result<Option<ExportRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM exports WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?)
    }

    /// A user's exports, newest first.
    pub fn exports_of(&self, user_id: i64) -> Result<Vec<ExportRow>> {
        let c = self.conn();
        let mut st = c.prepare(&format!(
            "SELECT {COLUMNS} FROM exports WHERE user_id = ?1 ORDER BY id DESC"
        ))?;
        let rows = st.query_map([user_id], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every export, oldest first.
    pub fn exports(&self) -> Result<Vec<ExportRow>> {
        let c = self.conn();
        let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM exports ORDER BY id"))?;
        let rows = st.query_map([], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn export_remove(&self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM exports WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Exports left half-written by a Hearth that stopped: failed now.
    pub fn exports_interrupted(&self) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE exports SET state = 2, error = 'Hearth stopped while writing it' WHERE state = 0",
            [],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_kept_per_user_and_interrupted_ones_fail() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("index.db")).unwrap();
        for name in ["ann", "bob"] {
            store
                .add_user(name, crate::store::Role::Viewer, "x", &[], 0)
                .unwrap();
        }
        let users = store.users().unwrap();
        let (ann, bob) = (users[0].id, users[1].id);
        let add = |user_id, from_us| {
            store
                .export_add(&NewExport {
                    user_id,
                    camera: "front",
                    stream: "main",
                    from_us,
                    to_us: from_us + 10,
                    created_us: 5,
                    bytes: 1234,
                })
                .unwrap()
        };
        let (a1, a2, b1) = (add(ann, 0), add(ann, 100), add(bob, 0));
        store.export_finish(a1, Ok(())).unwrap();
        store.export_finish(b1, Err("disk full")).unwrap();
        let mine: Vec<_> = store
            .exports_of(ann)
            .unwrap()
            .iter()
            .map(|e| (e.id, e.state))
            .collect();
        assert_eq!(
            mine,
            vec![(a2, ExportState::Writing), (a1, ExportState::Ready)]
        );
        assert_eq!(store.exports_interrupted().unwrap(), 1);
        let e = store.export(a2).unwrap().unwrap();
        assert_eq!((e.state, e.bytes), (ExportState::Failed, 1234));
        assert!(e.error.unwrap().contains("stopped"));
        store.export_remove(a2).unwrap();
        assert!(store.export(a2).unwrap().is_none());
        assert_eq!(store.exports().unwrap().len(), 2);
        assert_eq!(
            store.export(b1).unwrap().unwrap().error.as_deref(),
            Some("disk full")
        );
    }
}
