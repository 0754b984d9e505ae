//! Whether a session is still good (pure): idle and absolute expiry, and what a
//! request or a long-lived response (live view, download) on it may still see.

use crate::store::{EndReason, SessionRow};

/// A session's limits, in µs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub idle_us: i64,
    pub max_us: i64,
}

/// `Some(reason)` when the session has run out at `now_us`.
pub fn expired(s: &SessionRow, limits: Limits, now_us: i64) -> Option<EndReason> {
    if now_us - s.created_us > limits.max_us {
        Some(EndReason::Expired)
    } else if now_us - s.last_seen_us > limits.idle_us {
        Some(EndReason::IdleExpired)
    } else {
        None
    }
}

/// Whether a request at `now_us` should record the session as in use: at most
/// every minute, or every quarter of the idle limit when that is shorter.
pub fn needs_touch(s: &SessionRow, limits: Limits, now_us: i64) -> bool {
    now_us - s.last_seen_us > (limits.idle_us / 4).min(60_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_limits() {
        let l = Limits {
            idle_us: 10,
            max_us: 100,
        };
        let s = |created_us, last_seen_us| SessionRow {
            user_id: 1,
            csrf: String::new(),
            created_us,
            last_seen_us,
        };
        assert_eq!(expired(&s(0, 0), l, 10), None);
        assert_eq!(expired(&s(0, 0), l, 11), Some(EndReason::IdleExpired));
        assert_eq!(expired(&s(0, 95), l, 101), Some(EndReason::Expired));
        assert!(!needs_touch(&s(0, 0), l, 2));
        assert!(needs_touch(&s(0, 0), l, 3));
    }
}
