//! The data directory as a whole: its lock, its identity and its index.
//!
//! A data directory is made once, by `hearth init`, which writes an identity file
//! (`hearth-data.id`, a random id) and records the same id in the index. Every
//! later open checks that both are there and agree, so a recordings disk that did
//! not mount (an empty mount point on the root filesystem) or an index that
//! belongs to another directory is refused with the reason, never recorded onto.

use super::dir_sync;
use crate::store::{Store, StoreError};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const ID_FILE: &str = "hearth-data.id";
const INDEX: &str = "hearth.db";
const ID_PREFIX: &str = "hearth-data ";
/// What a freshly formatted disk may already hold.
const FRESH_DISK: &[&str] = &["lost+found"];

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(
        "data directory {0} does not exist: if it is on a disk of its own, is that disk \
         mounted? For a new installation run `hearth init --config FILE` once"
    )]
    Missing(PathBuf),
    #[error(
        "data directory {0} is not a Hearth data directory (no {ID_FILE}): if it should hold \
         recordings, is its disk mounted? For a new installation run `hearth init --config FILE` once"
    )]
    NotInitialised(PathBuf),
    #[error(
        "data directory {dir}: its index belongs to data directory {index_id}, but its {ID_FILE} \
         says {file_id}; refusing to mix them (was hearth.db copied from elsewhere?)"
    )]
    Foreign {
        dir: PathBuf,
        index_id: String,
        file_id: String,
    },
    #[error(
        "data directory {dir}: {ID_FILE} is missing, though the index is there (data directory \
         {index_id}); `hearth init --config FILE` writes it again"
    )]
    IdFileLost { dir: PathBuf, index_id: String },
    #[error(
        "data directory {0} is not empty and holds no Hearth data; choose an empty or new directory"
    )]
    NotEmpty(PathBuf),
    #[error("{path}: {message}")]
    BadIdFile { path: PathBuf, message: String },
    #[error("another Hearth process is using {0}; stop it first")]
    Locked(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T> = std::result::Result<T, DataDirError>;

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive lock on a data directory, held while Hearth records into it or
/// repairs it.
pub struct DataLock(#[allow(dead_code)] File);

/// Locks an existing data directory (never creating it).
pub fn lock(dir: &Path) -> Result<DataLock> {
    use std::os::fd::AsRawFd;
    if !dir.is_dir() {
        return Err(DataDirError::Missing(dir.to_path_buf()));
    }
    // Not even a lock file goes into a directory that is not one of ours.
    if !dir.join(ID_FILE).exists() && !dir.join(INDEX).exists() {
        return Err(DataDirError::NotInitialised(dir.to_path_buf()));
    }
    let path = dir.join("hearth.lock");
    let f = File::create(&path).map_err(io_at(&path))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(DataDirError::Locked(dir.to_path_buf()));
    }
    Ok(DataLock(f))
}

/// An opened data directory's index.
pub struct Opened {
    pub store: Arc<Store>,
    /// The index was made just now for a directory that had lost it: recovery
    /// should look at every file, not only recent ones.
    pub new_index: bool,
}

/// Opens the index of an initialised data directory, checking its identity.
pub fn open(dir: &Path) -> Result<Opened> {
    if !dir.is_dir() {
        return Err(DataDirError::Missing(dir.to_path_buf()));
    }
    let file_id = read_id(dir)?;
    let had_index = dir.join(INDEX).exists();
    if file_id.is_none() && !had_index {
        return Err(DataDirError::NotInitialised(dir.to_path_buf()));
    }
    let store = Arc::new(Store::open(&dir.join(INDEX))?);
    match (file_id, store.data_id()?) {
        (Some(f), Some(i)) if f == i => {}
        (Some(file_id), Some(index_id)) => {
            return Err(DataDirError::Foreign {
                dir: dir.to_path_buf(),
                index_id,
                file_id,
            });
        }
        (Some(f), None) => {
            if had_index {
                tracing::info!("{}: index given the identity {f}", dir.display());
            } else {
                tracing::warn!(
                    "{}: the index was missing; a new one is built from the files",
                    dir.display()
                );
            }
            store.set_data_id(&f)?;
        }
        (None, Some(index_id)) => {
            return Err(DataDirError::IdFileLost {
                dir: dir.to_path_buf(),
                index_id,
            });
        }
        (None, None) => {
            // An index from before identity files: this is its directory.
            let id = write_id(dir)?;
            store.set_data_id(&id)?;
            tracing::info!("{}: identity {id} written", dir.display());
        }
    }
    Ok(Opened {
        store,
        new_index: !had_index,
    })
}

/// What `hearth init` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Initialised {
    Created(String),
    Already(String),
}

/// Makes `dir` a data directory: creates it if needed (it must be empty or a
/// freshly formatted disk's root), writes the identity file and the index. On a
/// directory that is already one, says so and changes nothing; on one whose
/// identity file was lost, writes it again from the index.
pub fn init(dir: &Path) -> Result<Initialised> {
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(io_at(dir))?;
        dir_sync::sync_parent(dir).map_err(io_at(dir))?;
    }
    let file_id = read_id(dir)?;
    if file_id.is_none() && !dir.join(INDEX).exists() {
        let foreign = std::fs::read_dir(dir)
            .map_err(io_at(dir))?
            .filter_map(|e| e.ok())
            .any(|e| !FRESH_DISK.iter().any(|f| e.file_name() == *f));
        if foreign {
            return Err(DataDirError::NotEmpty(dir.to_path_buf()));
        }
        let id = write_id(dir)?;
        let store = Store::open(&dir.join(INDEX))?;
        store.set_data_id(&id)?;
        dir_sync::sync_dir(dir).map_err(io_at(dir))?;
        return Ok(Initialised::Created(id));
    }
    if file_id.is_none()
        && let Some(index_id) = Store::open(&dir.join(INDEX))?.data_id()?
    {
        write_id_as(dir, &index_id)?;
        return Ok(Initialised::Created(index_id));
    }
    let opened = open(dir)?;
    Ok(Initialised::Already(
        opened.store.data_id()?.unwrap_or_default(),
    ))
}

fn read_id(dir: &Path) -> Result<Option<String>> {
    let path = dir.join(ID_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(&path)(e)),
    };
    parse_id(&text).map(Some).ok_or(DataDirError::BadIdFile {
        path,
        message: format!("not an identity file (expected `{ID_PREFIX}<32 hex digits>`)"),
    })
}

/// The id in an identity file's text.
fn parse_id(text: &str) -> Option<String> {
    let id = text.lines().next()?.strip_prefix(ID_PREFIX)?.trim();
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}

fn write_id(dir: &Path) -> Result<String> {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
    write_id_as(dir, &id)?;
    Ok(id)
}

/// Writes the identity file durably (temp file, fsync, rename, directory fsync).
fn write_id_as(dir: &Path, id: &str) -> Result<()> {
    use std::io::Write;
    let path = dir.join(ID_FILE);
    let tmp = dir.join(format!("{ID_FILE}.tmp"));
    let text = format!(
        "{ID_PREFIX}{id}\n\
         # This directory holds Hearth's recordings. Hearth records here only while\n\
         # this file and the index (hearth.db) agree; do not copy it to another disk.\n"
    );
    File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, &path))
        .and_then(|_| dir_sync::sync_dir(dir))
        .map_err(io_at(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_text_round_trips_and_junk_is_refused() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            parse_id(&format!("{ID_PREFIX}{id}\n# x\n")),
            Some(id.into())
        );
        assert_eq!(
            parse_id(&format!("{ID_PREFIX}{}", id.to_uppercase())),
            Some(id.into())
        );
        assert_eq!(parse_id(&format!("{ID_PREFIX}{}", &id[1..])), None);
        assert_eq!(parse_id(id), None);
        assert_eq!(parse_id(""), None);
    }

    #[test]
    fn a_directory_is_opened_only_once_initialised_and_with_its_own_index() {
        let t = tempfile::tempdir().expect("tempdir");
        let a = t.path().join("a");
        assert!(matches!(open(&a), Err(DataDirError::Missing(_))));
        std::fs::create_dir(&a).expect("mkdir");
        assert!(matches!(open(&a), Err(DataDirError::NotInitialised(_))));
        let Initialised::Created(id) = init(&a).expect("init") else {
            panic!("not created")
        };
        assert_eq!(init(&a).expect("again"), Initialised::Already(id.clone()));
        assert!(!open(&a).expect("open").new_index);

        // Another directory's index copied in.
        let b = t.path().join("b");
        init(&b).expect("init b");
        std::fs::copy(b.join(INDEX), a.join(INDEX)).expect("copy");
        assert!(matches!(open(&a), Err(DataDirError::Foreign { .. })));

        // The identity file lost: refused, and init writes it again.
        std::fs::remove_file(b.join(ID_FILE)).expect("rm");
        assert!(matches!(open(&b), Err(DataDirError::IdFileLost { .. })));
        init(&b).expect("re-init");
        open(&b).expect("open b");

        // The index lost: a new one with the same identity.
        std::fs::remove_file(b.join(INDEX)).expect("rm index");
        assert!(open(&b).expect("open b").new_index);

        // A directory with someone else's files is not taken.
        let c = t.path().join("c");
        std::fs::create_dir_all(c.join("lost+found")).expect("mkdir");
        std::fs::write(c.join("notes.txt"), b"mine").expect("write");
        assert!(matches!(init(&c), Err(DataDirError::NotEmpty(_))));
    }
}
