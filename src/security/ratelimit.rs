//! Login rate limiting (pure): failures are counted per key (an address, a user
//! name) over a window; past the limit, logins are refused until the window
//! passes. Success does not reset an address's count, only the name's.

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

    /// `Some(seconds to wait)` when any key is over its limit.
    pub fn blocked(&mut self, keys: &[&str], now_us: i64) -> Option<i64> {
        self.prune(now_us);
        keys.iter()
            .filter_map(|k| self.failures.get(*k))
            .filter(|v| v.len() >= self.max_failures)
            .map(|v| (v[0] + self.window_us - now_us) / 1_000_000 + 1)
            .max()
    }

    pub fn failed(&mut self, keys: &[&str], now_us: i64) {
        for k in keys {
            self.failures
                .entry((*k).to_owned())
                .or_default()
                .push(now_us);
        }
    }

    pub fn succeeded(&mut self, key: &str) {
        self.failures.remove(key);
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
            assert_eq!(l.blocked(&["ip:1", "user:ann"], t), None);
            l.failed(&["ip:1", "user:ann"], t);
        }
        assert_eq!(l.blocked(&["ip:1"], 10_000_000), Some(51));
        assert_eq!(l.blocked(&["ip:2", "user:ann"], 10_000_000), Some(51));
        assert_eq!(l.blocked(&["ip:2", "user:bob"], 10_000_000), None);
        assert_eq!(l.blocked(&["ip:1"], 60_000_001), None);
    }
}
