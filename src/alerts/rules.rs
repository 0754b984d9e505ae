//! Which motion notices become a push to a phone (pure): an event alerts once,
//! when it first touches a zone the camera alerts on (any motion when it names
//! none), outside its quiet hours and not within its cooldown of the camera's
//! last push. Webhooks and MQTT hear of every event; only pushes are rationed.

use crate::config::CameraAlerts;
use crate::motion::notices::{Notice, Phase};
use std::collections::{BTreeMap, BTreeSet};

/// Events remembered as decided, per camera, so that an event is judged once.
const REMEMBERED: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Push,
    /// Not (yet) in a zone that alerts: a later notice of the event may push.
    NotYet,
    /// Decided against, for the rest of the event.
    Quiet,
    Cooling,
    /// Already pushed or decided.
    Done,
}

#[derive(Default)]
pub struct PushRules {
    last_push_us: BTreeMap<String, i64>,
    /// Event starts decided, per camera.
    decided: BTreeMap<String, BTreeSet<i64>>,
}

/// Whether local minute-of-day `m` falls in `(from, to)`, which may wrap midnight.
pub fn in_quiet_hours(m: u16, (from, to): (u16, u16)) -> bool {
    if from < to {
        (from..to).contains(&m)
    } else {
        m >= from || m < to
    }
}

impl PushRules {
    /// Judges `n` for camera settings `a` at `now_us`, local minute `minute`.
    pub fn judge(&mut self, n: &Notice, a: &CameraAlerts, now_us: i64, minute: u16) -> Verdict {
        if n.phase == Phase::Ended {
            return Verdict::Done;
        }
        let decided = self.decided.entry(n.camera.clone()).or_default();
        if decided.contains(&n.start_us) {
            return Verdict::Done;
        }
        if let Some(zones) = &a.zones {
            if !n.zones.iter().any(|z| zones.contains(z)) {
                return Verdict::NotYet;
            }
        }
        decided.insert(n.start_us);
        while decided.len() > REMEMBERED {
            decided.pop_first();
        }
        if a.quiet_hours.is_some_and(|q| in_quiet_hours(minute, q)) {
            return Verdict::Quiet;
        }
        let cooldown = i64::try_from(a.cooldown.as_micros()).unwrap_or(i64::MAX);
        if let Some(&last) = self.last_push_us.get(&n.camera) {
            if now_us.saturating_sub(last) < cooldown {
                return Verdict::Cooling;
            }
        }
        self.last_push_us.insert(n.camera.clone(), now_us);
        Verdict::Push
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn notice(phase: Phase, start_s: i64, zones: &[&str]) -> Notice {
        Notice {
            camera: "door".into(),
            phase,
            id: None,
            start_us: start_s * 1_000_000,
            end_us: start_s * 1_000_000,
            peak: 0.1,
            zones: zones.iter().map(|z| (*z).to_owned()).collect(),
            picture: None,
        }
    }

    const S: i64 = 1_000_000;

    #[test]
    fn an_event_pushes_once_and_the_cooldown_holds_the_next() {
        let a = CameraAlerts {
            cooldown: Duration::from_secs(60),
            ..CameraAlerts::default()
        };
        let mut r = PushRules::default();
        assert_eq!(
            r.judge(&notice(Phase::Started, 100, &[]), &a, 100 * S, 0),
            Verdict::Push
        );
        assert_eq!(
            r.judge(&notice(Phase::Updated, 100, &[]), &a, 101 * S, 0),
            Verdict::Done
        );
        assert_eq!(
            r.judge(&notice(Phase::Ended, 100, &[]), &a, 110 * S, 0),
            Verdict::Done
        );
        assert_eq!(
            r.judge(&notice(Phase::Started, 130, &[]), &a, 130 * S, 0),
            Verdict::Cooling
        );
        assert_eq!(
            r.judge(&notice(Phase::Updated, 130, &[]), &a, 170 * S, 0),
            Verdict::Done
        );
        assert_eq!(
            r.judge(&notice(Phase::Started, 200, &[]), &a, 200 * S, 0),
            Verdict::Push
        );
    }

    #[test]
    fn only_the_zones_that_alert_push_even_when_reached_late() {
        let a = CameraAlerts {
            zones: Some(vec!["porch".into()]),
            ..CameraAlerts::default()
        };
        let mut r = PushRules::default();
        assert_eq!(
            r.judge(&notice(Phase::Started, 10, &["street"]), &a, 10 * S, 0),
            Verdict::NotYet
        );
        assert_eq!(
            r.judge(
                &notice(Phase::Updated, 10, &["street", "porch"]),
                &a,
                12 * S,
                0
            ),
            Verdict::Push
        );
        assert_eq!(
            r.judge(&notice(Phase::Started, 500, &["street"]), &a, 500 * S, 0),
            Verdict::NotYet
        );
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = (23 * 60, 7 * 60);
        assert!(in_quiet_hours(23 * 60, q) && in_quiet_hours(2 * 60, q));
        assert!(!in_quiet_hours(7 * 60, q) && !in_quiet_hours(12 * 60, q));
        assert!(in_quiet_hours(13 * 60, (12 * 60, 14 * 60)));
        let a = CameraAlerts {
            quiet_hours: Some(q),
            ..CameraAlerts::default()
        };
        let mut r = PushRules::default();
        assert_eq!(
            r.judge(&notice(Phase::Started, 1, &[]), &a, S, 3 * 60),
            Verdict::Quiet
        );
        assert_eq!(
            r.judge(&notice(Phase::Updated, 1, &[]), &a, 2 * S, 8 * 60),
            Verdict::Done
        );
        assert_eq!(
            r.judge(&notice(Phase::Started, 9, &[]), &a, 9 * S, 8 * 60),
            Verdict::Push
        );
    }
}
