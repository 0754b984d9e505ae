//! Opening the data directory for a run (blocking): its lock, the index, the
//! start-up recovery, the disk reserve and the export sweep.

use crate::config::Config;
use crate::record::{data_dir, recovery};
use crate::store::Store;
use std::sync::Arc;

/// Old exports and stray export files go (blocking).
pub fn sweep_exports(dir: &std::path::Path, store: &Store) {
    let now = chrono::Utc::now().timestamp_micros();
    match crate::record::export_file::sweep(dir, store, now) {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} old or unfinished export files"),
        Err(e) => tracing::warn!("cannot sweep the exports: {e:#}"),
    }
}

/// Locks and opens the data directory and repairs what the last stop left; the
/// lock is held as long as the returned value lives.
pub fn open(cfg: &Config) -> anyhow::Result<(data_dir::DataLock, Arc<Store>)> {
    let dir = &cfg.storage.data_dir;
    let lock = data_dir::lock(dir)?;
    let opened = data_dir::open(dir)?;
    let store = opened.store;
    store.set_cache_size(cfg.storage.index_cache)?;
    for w in crate::security::file_modes::check(dir) {
        tracing::warn!("{w}");
    }
    let scope = if opened.new_index {
        recovery::Scope::Full
    } else {
        recovery::Scope::Recent
    };
    let report = recovery::check(dir, &store, true, scope)?;
    crate::record::reserve::ensure(dir);
    let interrupted = store.exports_interrupted()?;
    if interrupted > 0 {
        tracing::info!("{interrupted} exports were cut off by the last stop");
    }
    sweep_exports(dir, &store);
    if !report.problems.is_empty() {
        tracing::info!(
            "start-up recovery repaired {} problems",
            report.problems.len()
        );
    }
    Ok((lock, store))
}
