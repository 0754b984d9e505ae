//! The tamper-evident audit log's hash chain (pure): each entry's hash covers its
//! fields and the previous entry's hash, so editing or deleting any entry breaks
//! every hash after it. Appending and reading live in the store.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The hash before the first entry.
pub const GENESIS: Hash = [0; 32];

/// What happened: one of a fixed set of actions.
pub mod action {
    pub const LOGIN: &str = "login";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const LOGOUT: &str = "logout";
    pub const PLAYBACK: &str = "playback";
    pub const EXPORT: &str = "export";
    pub const LIVE_START: &str = "live_start";
    pub const LIVE_STOP: &str = "live_stop";
    pub const SNAPSHOT: &str = "snapshot";
    pub const USER_ADD: &str = "user_add";
    pub const USER_REMOVE: &str = "user_remove";
    pub const PASSWORD_CHANGE: &str = "password_change";
    pub const PERMISSION_CHANGE: &str = "permission_change";
    pub const TOTP_ENABLED: &str = "totp_enabled";
    pub const TOTP_DISABLED: &str = "totp_disabled";
}

/// An entry's content, before it has an id and hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Record {
    pub time_us: i64,
    pub user: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub camera: Option<String>,
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    pub detail: Option<String>,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    #[serde(flatten)]
    pub record: Record,
    #[serde(skip)]
    pub prev_hash: Hash,
    #[serde(skip)]
    pub hash: Hash,
}

fn put_opt_str(h: &mut Sha256, v: &Option<String>) {
    match v {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

fn put_opt_i64(h: &mut Sha256, v: Option<i64>) {
    match v {
        None => h.update([0u8]),
        Some(n) => {
            h.update([1u8]);
            h.update(n.to_be_bytes());
        }
    }
}

/// The hash of entry `id` with content `r` following `prev`.
pub fn hash(prev: &Hash, id: i64, r: &Record) -> Hash {
    let mut h = Sha256::new();
    h.update(b"hearth-audit-v1");
    h.update(prev);
    h.update(id.to_be_bytes());
    h.update(r.time_us.to_be_bytes());
    put_opt_str(&mut h, &r.user);
    put_opt_str(&mut h, &r.address);
    put_opt_str(&mut h, &Some(r.action.clone()));
    put_opt_str(&mut h, &r.camera);
    put_opt_i64(&mut h, r.from_us);
    put_opt_i64(&mut h, r.to_us);
    put_opt_str(&mut h, &r.detail);
    h.finalize().into()
}

/// Checks a whole log, oldest first, against the head recorded apart from it
/// (the last id and hash). Returns the number of entries, or what is wrong.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    head: Option<(i64, Hash)>,
) -> Result<usize, String> {
    let mut prev = GENESIS;
    let mut expected_id = 1;
    let mut n = 0;
    for e in entries {
        if e.id != expected_id {
            return Err(format!("entry {expected_id} is missing (next is {})", e.id));
        }
        if e.prev_hash != prev {
            return Err(format!("entry {} does not follow entry {}", e.id, e.id - 1));
        }
        if hash(&prev, e.id, &e.record) != e.hash {
            return Err(format!("entry {} was altered", e.id));
        }
        prev = e.hash;
        expected_id += 1;
        n += 1;
    }
    if let Some((id, h)) = head {
        if id != expected_id - 1 || h != prev {
            return Err(format!(
                "the log ends at entry {}, but entry {id} was written: entries were removed from the end",
                expected_id - 1
            ));
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|id| {
                let record = Record {
                    time_us: id * 1000,
                    user: Some("ann".into()),
                    action: action::PLAYBACK.into(),
                    camera: Some("front".into()),
                    from_us: Some(id),
                    to_us: Some(id + 5),
                    ..Record::default()
                };
                let h = hash(&prev, id, &record);
                let e = Entry {
                    id,
                    record,
                    prev_hash: prev,
                    hash: h,
                };
                prev = h;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, Some((5, c[4].hash))), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn edits_deletions_and_truncation_are_detected() {
        let mut c = chain(5);
        c[2].record.camera = Some("back".into());
        assert_eq!(verify(&c, None), Err("entry 3 was altered".into()));
        let mut c = chain(5);
        c.remove(1);
        assert!(verify(&c, None).unwrap_err().contains("entry 2 is missing"));
        let c = chain(5);
        let head = Some((5, c[4].hash));
        assert!(
            verify(&c[..4], head)
                .unwrap_err()
                .contains("removed from the end")
        );
        // Rewriting an entry and rehashing everything after it still fails at the head.
        let mut c = chain(5);
        c[4].record.user = Some("mallory".into());
        c[4].hash = hash(&c[4].prev_hash, 5, &c[4].record);
        assert!(verify(&c, head).is_err());
    }
}
