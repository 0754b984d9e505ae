//! The audit log as a whole: appends through the store and keeps the chain's head
//! (last id and hash) in a file beside the database, written crash-safely after
//! each commit, so entries removed from the end are noticed too. Someone who can
//! rewrite the whole data directory can replace the head as well, so the head is
//! also checkpointed where they cannot: the system log (syslog/journal) every
//! [`CHECKPOINT_EVERY`] entries and at shutdown; `hearth audit verify --checkpoint`
//! checks the log against one. Blocking: call it off the async runtime.

use super::audit_chain::{self, Hash, Record, anchor_text, parse_anchor};
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// An entry just appended: its number, the time it was given and its hash.
#[derive(Clone, Copy, Debug)]
pub struct Appended {
    pub id: i64,
    pub time_us: i64,
    pub hash: Hash,
}

pub const HEAD_FILE: &str = "audit-head";
/// A checkpoint goes to the system log every this many entries.
pub const CHECKPOINT_EVERY: i64 = 100;

pub struct AuditLog {
    store: Arc<Store>,
    head: PathBuf,
    lock: Mutex<()>,
    told: Option<Told>,
}

/// Where appended entries are told as they commit (for viewing notifications).
pub type Told = tokio::sync::broadcast::Sender<Record>;

impl AuditLog {
    pub fn new(store: Arc<Store>, data_dir: &Path) -> AuditLog {
        AuditLog {
            store,
            head: data_dir.join(HEAD_FILE),
            lock: Mutex::new(()),
            told: None,
        }
    }

    /// This log, telling `told` of each entry once it has committed.
    pub fn telling(mut self, told: Told) -> AuditLog {
        self.told = Some(told);
        self
    }

    /// Appends an entry (time is set here) and moves the head. A file lock orders
    /// appends from several processes (the server and the CLI).
    pub fn append(&self, r: Record) -> anyhow::Result<()> {
        self.append_entry(r).map(|_| ())
    }

    /// As `append`, returning where the entry went in the chain.
    pub fn append_entry(&self, mut r: Record) -> anyhow::Result<Appended> {
        use std::os::fd::AsRawFd;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let lock = std::fs::File::create(self.head.with_extension("lock"))?;
        // SAFETY: flock on a descriptor we own; released when `lock` closes.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        r.time_us = chrono::Utc::now().timestamp_micros();
        let (id, hash) = self.store.append_audit(&r)?;
        self.write_head(id, &hash)?;
        if id % CHECKPOINT_EVERY == 0 {
            checkpoint_to_system_log(id, &hash);
        }
        if let Some(t) = &self.told {
            // Nobody listening is no error.
            let _ = t.send(r.clone());
        }
        Ok(Appended {
            id,
            time_us: r.time_us,
            hash,
        })
    }

    /// Replaces the head file so that a crash leaves the old head or the new one,
    /// both on disk; the entry it names has committed before it is written.
    fn write_head(&self, id: i64, hash: &Hash) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = self.head.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "{id} {}", hex(hash))?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.head)?;
        if let Some(dir) = self.head.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Logs the current head as a checkpoint (at shutdown). `None` for an empty log.
    pub fn checkpoint(&self) -> anyhow::Result<Option<String>> {
        let Some((id, hash)) = self.store.audit_head()? else {
            return Ok(None);
        };
        checkpoint_to_system_log(id, &hash);
        Ok(Some(anchor_text(id, &hash)))
    }

    fn read_head(&self) -> Result<Option<(i64, Hash)>, String> {
        let text = match std::fs::read_to_string(&self.head) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", self.head.display())),
        };
        parse_anchor(&text)
            .map(Some)
            .ok_or_else(|| format!("{} is malformed", self.head.display()))
    }

    /// Verifies the whole chain against its head file and `checkpoints` (from the
    /// system log); the number of entries, or what is wrong.
    pub fn verify(&self, checkpoints: &[(i64, Hash)]) -> Result<usize, String> {
        let entries = self
            .store
            .audit_entries(None, i64::MAX)
            .map_err(|e| e.to_string())?;
        let head = self.read_head()?;
        if head.is_none() && !entries.is_empty() {
            return Err(format!("{} is missing", self.head.display()));
        }
        let mut anchors: Vec<(i64, Hash)> = head.into_iter().collect();
        anchors.extend_from_slice(checkpoints);
        audit_chain::verify(&entries, &anchors)
    }
}

/// Writes a checkpoint line to the system log (syslog, which the journal keeps
/// under systemd) and to Hearth's own log.
fn checkpoint_to_system_log(id: i64, hash: &Hash) {
    let line = format!("audit checkpoint {}", anchor_text(id, hash));
    tracing::info!("{line}");
    if let Ok(msg) = std::ffi::CString::new(line) {
        // SAFETY: the ident is a static C string; the format is a literal "%s"
        // with one C string argument that lives across the call.
        unsafe {
            libc::openlog(c"hearth".as_ptr(), libc::LOG_PID, libc::LOG_AUTHPRIV);
            libc::syslog(libc::LOG_NOTICE, c"%s".as_ptr(), msg.as_ptr());
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
