//! The audit log as a whole: appends through the store and keeps the chain's head
//! (last id and hash) in a file beside the database, so entries removed from the
//! end are noticed too. Blocking: call it off the async runtime.

use super::audit_chain::{self, Hash, Record};
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const HEAD_FILE: &str = "audit-head";

pub struct AuditLog {
    store: Arc<Store>,
    head: PathBuf,
    lock: Mutex<()>,
}

impl AuditLog {
    pub fn new(store: Arc<Store>, data_dir: &Path) -> AuditLog {
        AuditLog {
            store,
            head: data_dir.join(HEAD_FILE),
            lock: Mutex::new(()),
        }
    }

    /// Appends an entry (time is set here) and moves the head. A file lock orders
    /// appends from several processes (the server and the CLI).
    pub fn append(&self, mut r: Record) -> anyhow::Result<()> {
        use std::os::fd::AsRawFd;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let lock = std::fs::File::create(self.head.with_extension("lock"))?;
        // SAFETY: flock on a descriptor we own; released when `lock` closes.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        r.time_us = chrono::Utc::now().timestamp_micros();
        let (id, hash) = self.store.append_audit(&r)?;
        let tmp = self.head.with_extension("tmp");
        let text = format!("{id} {}\n", hex(&hash));
        std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &self.head))?;
        Ok(())
    }

    fn read_head(&self) -> Result<Option<(i64, Hash)>, String> {
        let text = match std::fs::read_to_string(&self.head) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", self.head.display())),
        };
        let bad = || format!("{} is malformed", self.head.display());
        let (id, h) = text.trim().split_once(' ').ok_or_else(bad)?;
        let id = id.parse().map_err(|_| bad())?;
        let bytes: Vec<u8> = (0..h.len())
            .step_by(2)
            .filter_map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
            .collect();
        let hash: Hash = bytes.try_into().map_err(|_| bad())?;
        Ok(Some((id, hash)))
    }

    /// Verifies the whole chain and its head; the number of entries, or what is wrong.
    pub fn verify(&self) -> Result<usize, String> {
        let entries = self
            .store
            .audit_entries(None, i64::MAX)
            .map_err(|e| e.to_string())?;
        let head = self.read_head()?;
        if head.is_none() && !entries.is_empty() {
            return Err(format!("{} is missing", self.head.display()));
        }
        audit_chain::verify(&entries, head)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
