//! Login rate limiting (pure): failures are counted per key (an address, a user
//! name) over a window; past the limit, logins are refused until the window
//! passes. An attempt is counted when it starts, before its password is checked,
//! so parallel guesses cannot all slip through; a good one is given back.
//! Success resets the name's count, not the address's.

use std::collections::HashMap;
use std::net::IpAddr;

/// The key a client address is counted under: an IPv4 address as it is, an IPv6
/// address by its /64 (one host usually holds the whole /64).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[derive(Debug)]
pub struct Limiter {
    max_failures: usize,
    window_us: i64,
    failures: HashMap<String, Vec<i64>>,
}

impl Limiter {
    pub fn new(max_failures: usize, window_us: i64) -> Self {
        Limiter {
            max_failures,
            window_us,
            failures: HashMap::new(),
        }
    }

    fn prune(&mut self, now_us: i64) {
        let w = self.window_us;
        self.failures.retain(|_, v| {
            v.retain(|&t| t > now_us - w);
            !v.is_empty()
        });
    }

    /// Reserves an attempt before it is verified: `Err(seconds to wait)` when a
    /// key is at its limit; otherwise the attempt counts as a failure of every key
    /// at once, so parallel attempts see each other. A good attempt is given back
    /// with [`Limiter::succeeded`].
    pub fn reserve(&mut self, keys: &[&str], now_us: i64) -> Result<(), i64> {
        self.prune(now_us);
        let wait = keys
            .iter()
            .filter_map(|k| self.failures.get(*k))
            .filter(|v| v.len() >= self.max_failures)
            .map(|v| (v[0] + self.window_us - now_us) / 1_000_000 + 1)
            .max();
        if let Some(w) = wait {
            return Err(w);
        }
        for k in keys {
            self.failures
                .entry((*k).to_owned())
                .or_default()
                .push(now_us);
        }
        Ok(())
    }

    /// The attempt reserved at `at_us` was good: it is no failure of any key, and
    /// `name`'s count starts again.
    pub fn succeeded(&mut self, keys: &[&str], at_us: i64, name: &str) {
        for k in keys {
            if let Some(v) = self.failures.get_mut(*k) {
                if let Some(i) = v.iter().position(|&t| t == at_us) {
                    v.remove(i);
                }
            }
        }
        self.failures.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let k = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(k("192.168.1.7"), "192.168.1.7");
        assert_eq!(k("::ffff:192.168.1.7"), "192.168.1.7");
        assert_eq!(k("fd00:1:2:3::1"), k("fd00:1:2:3:ffff:1:2:3"));
        assert_ne!(k("fd00:1:2:3::1"), k("fd00:1:2:4::1"));
    }

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let mut l = Limiter::new(3, 60_000_000);
        for t in 0..3 {
            assert_eq!(l.reserve(&["ip:1", "user:ann"], t), Ok(()));
        }
        assert_eq!(l.reserve(&["ip:1"], 10_000_000), Err(51));
        assert_eq!(l.reserve(&["ip:2", "user:ann"], 10_000_000), Err(51));
        assert_eq!(l.reserve(&["ip:2", "user:bob"], 10_000_000), Ok(()));
        assert_eq!(l.reserve(&["ip:1"], 60_000_001), Ok(()));
    }

    #[test]
    fn parallel_attempts_are_counted_before_they_are_verified() {
        let mut l = Limiter::new(5, 60_000_000);
        let granted = (0..50).filter(|_| l.reserve(&["ip:1"], 7).is_ok()).count();
        assert_eq!(granted, 5);
    }

    #[test]
    fn a_good_attempt_is_given_back() {
        let mut l = Limiter::new(2, 60_000_000);
        assert_eq!(l.reserve(&["ip:1", "user:ann"], 1), Ok(()));
        assert_eq!(l.reserve(&["ip:1", "user:ann"], 2), Ok(()));
        l.succeeded(&["ip:1", "user:ann"], 2, "user:ann");
        // One failure left on the address; none on the name.
        assert_eq!(l.reserve(&["ip:1"], 3), Ok(()));
        assert_eq!(l.reserve(&["ip:1"], 4), Err(60));
        assert_eq!(l.reserve(&["user:ann"], 4), Ok(()));
    }
}
