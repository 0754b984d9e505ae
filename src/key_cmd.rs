//! The `key` subcommand: the master key that seals footage at rest. `generate`
//! writes a new key file (0600, never over an existing one); `rotate` re-wraps
//! the data keys under a new master key; `encrypt-existing` seals what was
//! recorded before encryption was turned on.

use crate::config::Config;
use crate::footage::Footage;
use crate::record::layout;
use crate::seal::MasterKey;
use crate::store::SegmentState;
use crate::store::exports::ExportState;
use anyhow::{Context, bail};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes a new master key to `path`; refuses to replace a file there.
pub fn generate(path: &Path) -> anyhow::Result<()> {
    let (key, text) = MasterKey::generate()?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all())?;
    }
    println!(
        "wrote {} (fingerprint {}). Keep a copy off this machine: without it the \
         footage it seals cannot be read by anyone. Set [storage] encryption_key_file \
         to this path to seal new footage.",
        path.display(),
        key.fingerprint()
    );
    Ok(())
}

/// Re-wraps every data key under the key in `new_key` (made by `generate`),
/// without touching the footage; Hearth must be stopped.
pub fn rotate(cfg: &Config, new_key: &Path) -> anyhow::Result<()> {
    let dir = &cfg.storage.data_dir;
    let _lock = crate::record::data_dir::lock(dir)?;
    let store = crate::record::data_dir::open(dir)?.store;
    let Some(old_path) = &cfg.storage.encryption_key_file else {
        bail!("[storage] encryption_key_file is not set: there is no key to rotate");
    };
    // The current key must be the index's: the footage opens with it.
    crate::nvr::footage(cfg, store.clone())?;
    let old = MasterKey::load(old_path)?;
    let new = MasterKey::load(new_key)?;
    if new.fingerprint() == old.fingerprint() {
        bail!("{} is the key in use already", new_key.display());
    }
    let keys = store.all_data_keys()?;
    let mut rewrapped = Vec::with_capacity(keys.len());
    for (id, wrapped) in &keys {
        let key = old.unwrap(*id, wrapped)?;
        rewrapped.push((*id, new.wrap(*id, &key)?));
    }
    store.rewrap_data_keys(&rewrapped, new.fingerprint())?;
    println!(
        "{} data keys now wrapped by {} (fingerprint {}); no footage was rewritten. \
         Set [storage] encryption_key_file = {:?}, keep a copy of it off this machine, \
         then destroy {} and its copies: it opens nothing any more.",
        keys.len(),
        new_key.display(),
        new.fingerprint(),
        new_key.display().to_string(),
        old_path.display()
    );
    Ok(())
}

/// What `encrypt_existing` sealed.
#[derive(Debug, Default)]
pub struct Sealed {
    pub segments: usize,
    pub events: usize,
    pub exports: usize,
    pub bytes: u64,
}

/// Seals the footage recorded before encryption was on: complete segment files,
/// event pictures and ready exports. Each file is sealed beside itself, synced,
/// noted in the index, then renamed over the plain one, so a crash at any point
/// leaves every file readable. Hearth must be stopped.
pub fn encrypt_existing(cfg: &Config) -> anyhow::Result<Sealed> {
    let dir = &cfg.storage.data_dir;
    let _lock = crate::record::data_dir::lock(dir)?;
    let store = crate::record::data_dir::open(dir)?.store;
    let footage = crate::nvr::footage(cfg, store.clone())?;
    if !footage.sealing() {
        bail!("[storage] encryption_key_file is not set: make a key with `hearth key generate`");
    }
    let mut done = Sealed::default();
    for seg in store.all_segments()? {
        if seg.state != SegmentState::Complete {
            continue;
        }
        let path = layout::absolute(dir, &seg.path);
        if let Some(bytes) = seal_file(&footage, &path, |key| store.set_segment_key(seg.id, key))
            .with_context(|| format!("sealing {}", seg.path))?
        {
            done.segments += 1;
            done.bytes += bytes;
        }
    }
    for (id, camera) in store.events_with_plain_pictures()? {
        let snapshot = store.event_picture(&camera, id, false)?.unwrap_or_default();
        let thumb = store.event_picture(&camera, id, true)?.unwrap_or_default();
        let ([s, t], key) = footage.seal_pictures([&snapshot, &thumb])?;
        let key = key.context("footage stopped sealing")?;
        store.set_event_pictures(id, &s, &t, key)?;
        done.events += 1;
    }
    for e in store.exports()? {
        if e.state != ExportState::Ready {
            continue;
        }
        let path = layout::absolute(dir, &layout::export_path(e.id));
        if !path.exists() {
            continue;
        }
        if let Some(bytes) = seal_file(&footage, &path, |key| store.set_export_key(e.id, key))
            .with_context(|| format!("sealing export #{}", e.id))?
        {
            done.exports += 1;
            done.bytes += bytes;
        }
    }
    store.checkpoint()?;
    Ok(done)
}

/// Seals one plain file in place; `None` when it is sealed already. `note`
/// records its key in the index before the sealed file takes its name.
fn seal_file(
    footage: &Footage,
    path: &Path,
    note: impl FnOnce(u64) -> Result<(), crate::store::StoreError>,
) -> anyhow::Result<Option<u64>> {
    let mut plain = footage.open_file(path)?;
    if plain.is_sealed() {
        return Ok(None);
    }
    let tmp = path.with_extension("mp4.sealing");
    let _ = std::fs::remove_file(&tmp);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let result = (|| -> anyhow::Result<u64> {
        let mut sink = footage.writer(file)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = plain.read(&mut buf)?;
            if n == 0 {
                break;
            }
            sink.write_all(&buf[..n])?;
            total += n as u64;
        }
        sink.finish()?;
        let key = sink.key_id().context("footage stopped sealing")?;
        note(key)?;
        Ok(total)
    })();
    match result {
        Ok(total) => {
            std::fs::rename(&tmp, path)?;
            crate::record::dir_sync::sync_parent(path)?;
            footage.forget(path);
            Ok(Some(total))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
