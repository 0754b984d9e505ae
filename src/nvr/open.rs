//! Opening the data directory for a run (blocking): its lock, the index, the
//! start-up recovery, the disk reserve and the export sweep.

use crate::config::Config;
use crate::footage::Footage;
use crate::record::{data_dir, recovery};
use crate::store::Store;
use anyhow::Context;
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

/// The data directory's footage with the configured key: refused when the
/// index's sealed footage needs a key that is absent or another.
pub fn footage(cfg: &Config, store: Arc<Store>) -> anyhow::Result<Footage> {
    Footage::open(
        &cfg.storage.data_dir,
        store,
        cfg.storage.encryption_key_file.as_deref(),
    )
    .context("footage encryption ([storage] encryption_key_file)")
}

/// Locks and opens the data directory and repairs what the last stop left; the
/// lock is held as long as the returned value lives.
pub fn open(cfg: &Config) -> anyhow::Result<(data_dir::DataLock, Arc<Footage>)> {
    let dir = &cfg.storage.data_dir;
    let lock = data_dir::lock(dir)?;
    let opened = data_dir::open(dir)?;
    let store = opened.store;
    store.set_cache_size(cfg.storage.index_cache)?;
    let footage = Arc::new(footage(cfg, store.clone())?);
    for w in crate::security::file_modes::check(dir) {
        tracing::warn!("{w}");
    }
    let scope = if opened.new_index {
        recovery::Scope::Full
    } else {
        recovery::Scope::Recent
    };
    let report = recovery::check(&footage, true, scope)?;
    crate::record::reserve::ensure(dir);
    let interrupted = store.exports_interrupted()?;
    if interrupted > 0 {
        tracing::info!("{interrupted} exports were cut off by the last stop");
    }
    sweep_exports(dir, &store);
    let unused = store.forget_unused_keys()?;
    if unused > 0 {
        tracing::info!("forgot {unused} data keys no file uses");
    }
    if !report.problems.is_empty() {
        tracing::info!(
            "start-up recovery repaired {} problems",
            report.problems.len()
        );
    }
    Ok((lock, footage))
}
