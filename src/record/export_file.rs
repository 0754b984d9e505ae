//! Exports written on the server: a range's plan copied into
//! `exports/<id>.mp4` in chunks, with its progress readable and a cancel
//! honoured between chunks, synced and renamed into place only when whole. Old
//! exports, and files the index no longer lists, are swept away.

use super::dir_sync;
use super::export::{ExportError, Plan};
use super::layout::{self, EXPORTS};
use crate::export_proof::{Hashing, Manifest, SigningKey};
use crate::footage::Footage;
use crate::store::Store;
use crate::store::exports::ExportState;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bytes copied between looks at the cancel flag.
const CHUNK: u64 = 1 << 20;
/// Exports are kept this long.
pub const KEEP_US: i64 = 7 * 24 * 3600 * 1_000_000;

/// A running export's progress and its cancel switch, shared with whoever watches.
#[derive(Default)]
pub struct Progress {
    pub written: AtomicU64,
    pub cancel: AtomicBool,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Export(#[from] ExportError),
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Writes `plan` as export `id` (sealed when footage is: its key noted on the
/// export's row first); with `proof`, as a bundle: the manifest, completed with
/// the video's length and hash, signed and appended. A cancelled or failed
/// export leaves no file behind.
pub fn write(
    footage: &Footage,
    id: i64,
    plan: &Plan,
    progress: &Progress,
    proof: Option<(&SigningKey, Manifest)>,
) -> Result<(), WriteError> {
    let data_dir = footage.dir();
    let dir = data_dir.join(EXPORTS);
    let done = layout::absolute(data_dir, &layout::export_path(id));
    let part = done.with_extension("mp4.part");
    let io = |source| WriteError::Io {
        path: part.display().to_string(),
        source,
    };
    let result = (|| {
        dir_sync::create_dirs(data_dir, &dir).map_err(io)?;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&part)
            .map_err(io)?;
        let mut f = footage.writer(f).map_err(io)?;
        if let Some(key) = f.key_id() {
            footage
                .store()
                .set_export_key(id, key)
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        }
        let mut hashed = Hashing::new(std::io::sink());
        let mut at = 0;
        while at < plan.len {
            if progress.cancel.load(Ordering::Relaxed) {
                return Err(WriteError::Cancelled);
            }
            let to = (at + CHUNK).min(plan.len);
            let mut buf = Vec::with_capacity(usize::try_from(to - at).unwrap_or(0));
            plan.write_range(footage, at, to, &mut buf)?;
            f.write_all(&buf).map_err(io)?;
            std::io::Write::write_all(&mut hashed, &buf).map_err(io)?;
            at = to;
            progress.written.store(at, Ordering::Relaxed);
        }
        if let Some((key, mut manifest)) = proof {
            let (_, bytes, sha256) = hashed.finish();
            manifest.video_bytes = bytes;
            manifest.video_sha256 = sha256;
            f.write_all(&key.proof_box(manifest)).map_err(io)?;
        }
        f.finish().map_err(io)?;
        std::fs::rename(&part, &done).map_err(io)?;
        dir_sync::sync_dir(&dir).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// Removes export `id`'s file, if any.
pub fn remove(data_dir: &Path, id: i64) -> std::io::Result<()> {
    let path = layout::absolute(data_dir, &layout::export_path(id));
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Forgets exports older than [`KEEP_US`] and removes every file under
/// `exports/` the index does not list as ready or being written (expired,
/// removed with their user, or left half-written by a Hearth that stopped: run
/// [`Store::exports_interrupted`] first at start-up). Returns how many files went.
pub fn sweep(data_dir: &Path, store: &Store, now_us: i64) -> anyhow::Result<usize> {
    let mut keep = std::collections::HashSet::new();
    for e in store.exports()? {
        if now_us - e.created_us > KEEP_US {
            store.export_remove(e.id)?;
        } else {
            match e.state {
                ExportState::Ready => keep.insert(format!("{}.mp4", e.id)),
                ExportState::Writing => keep.insert(format!("{}.mp4.part", e.id)),
                ExportState::Failed => false,
            };
        }
    }
    let dir = data_dir.join(EXPORTS);
    let entries = match std::fs::read_dir(&dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut gone = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.contains(&name) {
            std::fs::remove_file(entry.path())?;
            gone += 1;
        }
    }
    if gone > 0 {
        dir_sync::sync_dir(&dir)?;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::export::{ExportSummary, Piece};

    fn plan(len: usize) -> Plan {
        let bytes: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
        Plan {
            len: len as u64,
            pieces: vec![Piece::Bytes(bytes)],
            summary: ExportSummary {
                frames: 1,
                audio_frames: 0,
                first_us: 0,
                last_us: 0,
                bytes: len as u64,
            },
        }
    }

    fn export_row(store: &Store) -> i64 {
        store
            .add_user("sam", crate::store::Role::Admin, "x", &[], 0)
            .unwrap();
        let user = store.users().unwrap()[0].id;
        store
            .export_add(&crate::store::exports::NewExport {
                user_id: user,
                camera: "front",
                stream: "main",
                from_us: 0,
                to_us: 1,
                created_us: 0,
                bytes: 1,
            })
            .unwrap()
    }

    #[test]
    fn a_sealed_export_reads_back_the_same_and_its_key_goes_with_its_row() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(&dir.path().join("index.db")).unwrap());
        let key = dir.path().join("master.key");
        let (_, text) = crate::seal::MasterKey::generate().unwrap();
        std::fs::write(&key, text).unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let footage = Footage::open(dir.path(), store.clone(), Some(&key)).unwrap();
        let id = export_row(&store);
        let p = plan(300_017);
        write(&footage, id, &p, &Progress::default(), None).unwrap();
        let file = layout::absolute(dir.path(), &layout::export_path(id));
        let mut want = Vec::new();
        p.write_range(&footage, 0, p.len, &mut want).unwrap();
        let raw = std::fs::read(&file).unwrap();
        assert!(raw.starts_with(b"HRTHSEAL") && !raw.windows(4).any(|w| w == b"ftyp"));
        let mut got = Vec::new();
        footage
            .open_file(&file)
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, want);
        assert!(store.data_key_count().unwrap() >= 1);
        let key_id = footage.key_id_of(&file).unwrap().unwrap();
        assert!(store.data_key(key_id).unwrap().is_some());
        store.export_remove(id).unwrap();
        assert_eq!(
            store.data_key(key_id).unwrap(),
            None,
            "shredded with its export"
        );
    }

    #[test]
    fn an_export_is_written_whole_with_its_progress_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(&dir.path().join("index.db")).unwrap());
        let footage = Footage::plain(dir.path(), store);
        let p = plan(3 * (1 << 20) + 17);
        let progress = Progress::default();
        write(&footage, 7, &p, &progress, None).unwrap();
        let file = dir.path().join("exports/7.mp4");
        let mut want = Vec::new();
        p.write_range(&footage, 0, p.len, &mut want).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), want);
        assert_eq!(progress.written.load(Ordering::Relaxed), p.len);
        // Cancelled: no file, not even a part.
        let cancelled = Progress::default();
        cancelled.cancel.store(true, Ordering::Relaxed);
        assert!(matches!(
            write(&footage, 8, &p, &cancelled, None),
            Err(WriteError::Cancelled)
        ));
        let names: Vec<_> = std::fs::read_dir(dir.path().join(EXPORTS))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["7.mp4".to_owned()]);
        remove(dir.path(), 7).unwrap();
        remove(dir.path(), 7).unwrap();
        assert!(!file.exists());
    }

    #[test]
    fn the_sweep_keeps_ready_and_running_exports_of_the_week_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("index.db")).unwrap();
        store
            .add_user("ann", crate::store::Role::Viewer, "x", &[], 0)
            .unwrap();
        let ann = store.users().unwrap()[0].id;
        let day = 24 * 3600 * 1_000_000;
        let add = |created_us| {
            store
                .export_add(&crate::store::exports::NewExport {
                    user_id: ann,
                    camera: "front",
                    stream: "main",
                    from_us: 0,
                    to_us: 1,
                    created_us,
                    bytes: 1,
                })
                .unwrap()
        };
        let now = 30 * day;
        let (old, ready, running, failed) =
            (add(now - 8 * day), add(now - day), add(now), add(now));
        store.export_finish(old, Ok(())).unwrap();
        store.export_finish(ready, Ok(())).unwrap();
        store.export_finish(failed, Err("disk full")).unwrap();
        let exports = dir.path().join(EXPORTS);
        std::fs::create_dir_all(&exports).unwrap();
        for name in [
            format!("{old}.mp4"),
            format!("{ready}.mp4"),
            format!("{running}.mp4.part"),
            format!("{failed}.mp4.part"),
            "99.mp4".into(),
            "stray".into(),
        ] {
            std::fs::write(exports.join(name), b"x").unwrap();
        }
        assert_eq!(sweep(dir.path(), &store, now).unwrap(), 4);
        let mut left: Vec<_> = std::fs::read_dir(&exports)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![format!("{ready}.mp4"), format!("{running}.mp4.part")]
        );
        assert!(
            store.export(old).unwrap().is_none(),
            "forgotten after a week"
        );
        assert!(
            store.export(failed).unwrap().is_some(),
            "listed until deleted"
        );
    }
}
