//! Refused logins, coalesced for the audit log (pure): the first refusal from an
//! address for a name in a window is written at once; the rest of that window
//! become one summary entry with a count when it closes. An anonymous flood
//! thus adds a handful of rows, not one per guess. Names per address and keys in
//! all are capped, so cycling through names coalesces too.

use std::collections::HashMap;

/// Distinct names one address may have open before its further names share one entry.
const NAMES_PER_ADDRESS: usize = 8;
/// Open windows in all before every further refusal shares one entry.
const MAX_OPEN: usize = 10_000;
/// The name (or address) of a shared entry.
pub const VARIOUS: &str = "*";

#[derive(Debug)]
struct Open {
    first_us: i64,
    last_us: i64,
    /// Refusals after the one written when the window opened.
    more: u64,
}

/// A closed window's refusals beyond its first, to be written as one entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    pub address: String,
    pub name: String,
    pub first_us: i64,
    pub last_us: i64,
    pub more: u64,
}

#[derive(Debug)]
pub struct Refusals {
    window_us: i64,
    open: HashMap<(String, String), Open>,
}

impl Refusals {
    pub fn new(window_us: i64) -> Refusals {
        Refusals {
            window_us,
            open: HashMap::new(),
        }
    }

    /// Notes a refusal. `Some((address, name))`: write an entry for it now, under
    /// these (possibly shared) names; `None`: it is counted for the summary.
    pub fn note(&mut self, address: &str, name: &str, now_us: i64) -> Option<(String, String)> {
        let mut key = (address.to_owned(), name.to_owned());
        if !self.open.contains_key(&key) {
            let names = self.open.keys().filter(|(a, _)| a == address).count();
            if names >= NAMES_PER_ADDRESS {
                key.1 = VARIOUS.into();
            }
            if self.open.len() >= MAX_OPEN && !self.open.contains_key(&key) {
                key = (VARIOUS.into(), VARIOUS.into());
            }
        }
        match self.open.get_mut(&key) {
            Some(o) => {
                o.more += 1;
                o.last_us = now_us;
                None
            }
            None => {
                let o = Open {
                    first_us: now_us,
                    last_us: now_us,
                    more: 0,
                };
                self.open.insert(key.clone(), o);
                Some(key)
            }
        }
    }

    /// Closes the windows that ended by `now_us` (all of them with `all`, at
    /// shutdown); the summaries of those that counted more than their first.
    pub fn due(&mut self, now_us: i64, all: bool) -> Vec<Summary> {
        let w = self.window_us;
        let closing: Vec<_> = self
            .open
            .iter()
            .filter(|(_, o)| all || now_us - o.first_us >= w)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::new();
        for k in closing {
            if let Some(o) = self.open.remove(&k) {
                if o.more > 0 {
                    out.push(Summary {
                        address: k.0,
                        name: k.1,
                        first_us: o.first_us,
                        last_us: o.last_us,
                        more: o.more,
                    });
                }
            }
        }
        out.sort_by_key(|s| s.first_us);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_one_entry_and_a_summary() {
        let mut r = Refusals::new(100);
        assert!(r.note("10.0.0.9", "ann", 0).is_some());
        for t in 1..10_000 {
            assert!(r.note("10.0.0.9", "ann", t % 100).is_none());
        }
        assert!(r.due(99, false).is_empty(), "the window is still open");
        let s = r.due(100, false);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].more, s[0].first_us, s[0].last_us), (9_999, 0, 99));
        // A new window opens with a new first entry.
        assert!(r.note("10.0.0.9", "ann", 150).is_some());
        assert!(r.due(151, true).is_empty(), "nothing more than the first");
    }

    #[test]
    fn cycling_names_or_addresses_shares_entries() {
        let mut r = Refusals::new(100);
        let written = (0..1000)
            .filter(|i| r.note("10.0.0.9", &format!("name{i}"), 1).is_some())
            .count();
        assert_eq!(written, NAMES_PER_ADDRESS + 1);
        let s = r.due(1, true);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].name.as_str(), s[0].more), (VARIOUS, 1000 - 9));
    }
}
