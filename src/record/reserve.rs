//! A little disk space held back for the index: when the disk fills, the reserve
//! file is released so SQLite can still bring the index in line with the files
//! (close segments, drop empty ones); it is taken again once space returns.

use std::io::Write;
use std::path::{Path, PathBuf};

pub const RESERVE_FILE: &str = "hearth.reserve";
/// Enough for SQLite to close and drop a few segments' rows (a handful of WAL pages).
const RESERVE_BYTES: usize = 256 << 10;
/// Free space needed before the reserve is taken (again): once it is, what stays
/// free still lets the recorder try a new segment (`recorder::MIN_FREE_TO_RETRY`).
/// Small enough that a small disk gets a reserve at all.
const RETAKE_FREE: u64 = super::recorder::MIN_FREE_TO_RETRY + RESERVE_BYTES as u64;

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(RESERVE_FILE)
}

/// Releases the reserve (after a write failed for want of space).
pub fn release(data_dir: &Path) {
    if std::fs::remove_file(path(data_dir)).is_ok() {
        tracing::warn!("disk full: released the index's reserve space");
    }
}

/// Takes the reserve when it is missing and the disk has room.
pub fn ensure(data_dir: &Path) {
    let p = path(data_dir);
    if p.exists() || super::retention::free_space(data_dir).is_ok_and(|f| f < RETAKE_FREE) {
        return;
    }
    let res = std::fs::File::create(&p).and_then(|mut f| {
        f.write_all(&vec![0u8; RESERVE_BYTES])?;
        f.sync_all()
    });
    if let Err(e) = res {
        let _ = std::fs::remove_file(&p);
        tracing::warn!("cannot take reserve space for the index: {e}");
    }
}
