//! Playback plans kept between requests. A player seeks with many Range
//! requests over one time range; planning reads every `moof` in the range, so a
//! long range would be planned again on every seek. A plan is kept under its
//! camera, stream and range and reused while the index still gives the same
//! fingerprint for it (`export::fingerprint`: retention, recovery or a growing
//! segment change it), and its fingerprint is the ETag that `If-Range` checks.

use crate::config::StreamKind;
use crate::record::export::Plan;
use std::sync::{Arc, Mutex};

/// Plans kept; the least recently used goes first.
const KEEP: usize = 16;

type Key = (String, StreamKind, i64, i64);
/// A kept plan under its key and the fingerprint it was made for.
type Entry = (Key, [u8; 16], Arc<Plan>);

#[derive(Default)]
pub struct PlanCache {
    /// Most recently used last.
    entries: Mutex<Vec<Entry>>,
}

impl PlanCache {
    /// The plan kept for `key` if it was made from the same index state.
    pub fn get(&self, key: &Key, fingerprint: &[u8; 16]) -> Option<Arc<Plan>> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let i = e
            .iter()
            .position(|(k, f, _)| k == key && f == fingerprint)?;
        let hit = e.remove(i);
        let plan = hit.2.clone();
        e.push(hit);
        Some(plan)
    }

    pub fn put(&self, key: Key, fingerprint: [u8; 16], plan: Arc<Plan>) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.retain(|(k, _, _)| *k != key);
        if e.len() >= KEEP {
            e.remove(0);
        }
        e.push((key, fingerprint, plan));
    }
}

/// A fingerprint as a strong ETag.
pub fn etag(fingerprint: &[u8; 16]) -> String {
    let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::export::ExportSummary;

    fn plan() -> Arc<Plan> {
        Arc::new(Plan {
            pieces: Vec::new(),
            len: 0,
            summary: ExportSummary {
                frames: 0,
                audio_frames: 0,
                first_us: 0,
                last_us: 0,
                bytes: 0,
            },
        })
    }

    #[test]
    fn plans_are_reused_only_for_the_same_index_state_and_the_oldest_go() {
        let c = PlanCache::default();
        let key = |n: i64| ("front".to_owned(), StreamKind::Main, n, n + 10);
        c.put(key(0), [1; 16], plan());
        assert!(c.get(&key(0), &[1; 16]).is_some());
        assert!(c.get(&key(0), &[2; 16]).is_none(), "the index changed");
        for n in 1..=KEEP as i64 {
            c.put(key(n), [1; 16], plan());
        }
        assert!(c.get(&key(0), &[1; 16]).is_none(), "evicted");
        assert!(c.get(&key(KEEP as i64), &[1; 16]).is_some());
        assert_eq!(etag(&[0xab; 16]).len(), 34);
    }
}
