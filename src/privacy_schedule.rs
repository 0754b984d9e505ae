//! A camera's privacy schedule (pure): weekly windows of local time such as
//! `"Mon-Fri 08:00-18:00"` or `"daily 22:00-07:00"` (a window whose end is not
//! after its start runs past midnight into the next day). Says whether an
//! instant falls in a window, in the household's zone, and when that next
//! changes, across DST changes.

use crate::local_time::Zone;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime};

/// Minutes in a day; a window may end at `24:00`.
const DAY: u16 = 24 * 60;

/// One weekly window: the days it starts on (Monday first) and its local start
/// and end as minutes since midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub days: [bool; 7],
    pub from: u16,
    pub to: u16,
}

/// A camera's schedule: private while any window holds. Empty: never.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule(pub Vec<Window>);

const DAY_NAMES: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// A day's number (Monday 0) from its abbreviation or its name, in any case.
fn day_index(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|(short, full)| s == *short || s == *full)
}

fn parse_days(s: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    if matches!(s.to_ascii_lowercase().as_str(), "daily" | "every day") {
        return Some([true; 7]);
    }
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a)?, day_index(b)?);
                // `Fri-Mon` wraps the week's end.
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day_index(part)?] = true,
        }
    }
    Some(days)
}

fn parse_hm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let v = h * 60 + m;
    (m < 60 && v <= DAY).then_some(v)
}

impl Window {
    /// Parses `"DAYS HH:MM-HH:MM"`; DAYS is `daily`, a day (`Mon`), a range
    /// (`Mon-Fri`) or a list of those (`Sat,Sun`).
    pub fn parse(s: &str) -> Result<Window, String> {
        let bad = || {
            format!(
                "{s:?}: a privacy window is days and local times, such as \"Mon-Fri 08:00-18:00\", \
                 \"Sat,Sun 09:00-12:00\" or \"daily 22:00-07:00\""
            )
        };
        let s = s.trim();
        let (days, times) = s.rsplit_once(' ').ok_or_else(bad)?;
        let days = parse_days(days.trim()).ok_or_else(bad)?;
        let (from, to) = times.split_once('-').ok_or_else(bad)?;
        let (from, to) = (
            parse_hm(from).ok_or_else(bad)?,
            parse_hm(to).ok_or_else(bad)?,
        );
        if from == to || from == DAY {
            return Err(format!(
                "{s:?}: the window starts and ends at the same time"
            ));
        }
        Ok(Window { days, from, to })
    }

    /// Whether the window holds at local minute `m` of a day whose weekday is `wd`
    /// (0 = Monday).
    fn holds(&self, wd: usize, m: u16) -> bool {
        let yesterday = (wd + 6) % 7;
        if self.from < self.to {
            self.days[wd] && (self.from..self.to).contains(&m)
        } else {
            (self.days[wd] && m >= self.from) || (self.days[yesterday] && m < self.to)
        }
    }
}

impl Schedule {
    /// Whether the camera is private by schedule at `us`.
    pub fn holds(&self, zone: Zone, us: i64) -> bool {
        let wd = zone.day_of(us).weekday().num_days_from_monday() as usize;
        let m = zone.minute_of_day(us);
        self.0.iter().any(|w| w.holds(wd, m))
    }

    /// The first instant after `us` at which [`Schedule::holds`] changes, within
    /// the next eight days; `None` when it never does (empty, or always on).
    pub fn next_change(&self, zone: Zone, us: i64) -> Option<i64> {
        let now = self.holds(zone, us);
        let today = zone.day_of(us);
        let mut edges: Vec<i64> = Vec::new();
        for back in -1..=8 {
            let day = today + Duration::days(back);
            for w in &self.0 {
                edges.push(at(zone, day, w.from));
                // A window that ends at or before it starts ends the next day.
                let end_day = if w.to <= w.from {
                    day + Duration::days(1)
                } else {
                    day
                };
                edges.push(at(zone, end_day, w.to));
            }
        }
        edges.sort_unstable();
        edges
            .into_iter()
            .filter(|&t| t > us)
            .find(|&t| self.holds(zone, t) != now)
    }
}

impl std::fmt::Display for Window {
    /// As the config writes it: `Mon-Fri 08:00-18:00`, `Sat,Sun 09:00-12:00`,
    /// `daily 22:00-07:00` (three days or more in a row as a range).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |d: usize| {
            let s = DAY_NAMES[d].0;
            s[..1].to_ascii_uppercase() + &s[1..]
        };
        let mut parts: Vec<String> = Vec::new();
        let mut d = 0;
        while d < 7 {
            if !self.days[d] {
                d += 1;
                continue;
            }
            let start = d;
            while d + 1 < 7 && self.days[d + 1] {
                d += 1;
            }
            match d - start {
                0 => parts.push(name(start)),
                1 => parts.extend([name(start), name(d)]),
                _ => parts.push(format!("{}-{}", name(start), name(d))),
            }
            d += 1;
        }
        let days = if self.days == [true; 7] {
            "daily".to_owned()
        } else {
            parts.join(",")
        };
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{days} {}-{}", hm(self.from), hm(self.to))
    }
}

/// A switch by hand: private or not from `since_us` until the schedule next
/// changes after it (for ever when it never does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hand {
    pub private: bool,
    pub since_us: i64,
}

impl Schedule {
    /// When a switch by hand stops holding; `None`: never.
    pub fn hand_ends(&self, zone: Zone, hand: &Hand) -> Option<i64> {
        self.next_change(zone, hand.since_us)
    }

    /// Whether the camera is private at `us`: the switch by hand while it
    /// holds, else the schedule.
    pub fn private_at(&self, zone: Zone, hand: Option<&Hand>, us: i64) -> bool {
        match hand {
            Some(h) if self.hand_ends(zone, h).is_none_or(|end| us < end) => h.private,
            _ => self.holds(zone, us),
        }
    }

    /// The first instant after `us` at which [`Schedule::private_at`] changes,
    /// within the next eight days.
    pub fn private_changes(&self, zone: Zone, hand: Option<&Hand>, us: i64) -> Option<i64> {
        let now = self.private_at(zone, hand, us);
        let hand_end = hand
            .and_then(|h| self.hand_ends(zone, h))
            .filter(|&e| e > us);
        let mut t = us;
        // The hand's end, then the schedule's edges: a few steps at most.
        for _ in 0..8 {
            let next = match (self.next_change(zone, t), hand_end.filter(|&e| e > t)) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b)?,
            };
            if self.private_at(zone, hand, next) != now {
                return Some(next);
            }
            t = next;
        }
        None
    }
}

/// Local minute `m` (up to 24:00) of `day` as an instant.
fn at(zone: Zone, day: NaiveDate, m: u16) -> i64 {
    let (day, m) = if m == DAY {
        (day + Duration::days(1), 0)
    } else {
        (day, m)
    };
    let t = NaiveTime::from_hms_opt(u32::from(m / 60), u32::from(m % 60), 0).unwrap_or_default();
    zone.instant(day.and_time(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Schedule {
        fn parse(items: &[&str]) -> Result<Schedule, String> {
            items
                .iter()
                .map(|s| Window::parse(s))
                .collect::<Result<_, _>>()
                .map(Schedule)
        }
    }

    fn us(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn windows_parse_days_and_times() {
        let w = Window::parse("Mon-Fri 08:00-18:00").unwrap();
        assert_eq!(w.days, [true, true, true, true, true, false, false]);
        assert_eq!((w.from, w.to), (480, 1080));
        let w = Window::parse("sat,Sunday 00:00-24:00").unwrap();
        assert_eq!(w.days, [false, false, false, false, false, true, true]);
        assert_eq!(w.to, 1440);
        assert_eq!(Window::parse("daily 22:00-07:00").unwrap().days, [true; 7]);
        for text in [
            "daily 22:00-07:00",
            "Mon,Tue,Fri 08:00-24:00",
            "Sun 00:00-06:30",
        ] {
            let w = Window::parse(text).unwrap();
            assert_eq!(w.to_string(), text);
            assert_eq!(Window::parse(&w.to_string()), Ok(w));
        }
        assert_eq!(
            Window::parse("Fri-Mon 9:30-10:00").unwrap().days,
            [true, false, false, false, true, true, true]
        );
        for bad in [
            "",
            "Mon",
            "Mon 08:00",
            "Mo-Fr 08:00-18:00",
            "Mon 08:00-08:00",
            "Mon 25:00-26:00",
            "Mon 08:60-09:00",
            "Mon 24:00-01:00",
            "Funday 08:00-09:00",
        ] {
            assert!(Window::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_window_holds_on_its_days_and_past_midnight() {
        let s = Schedule::parse(&["Mon-Fri 08:00-18:00", "Sat 22:00-07:00"]).unwrap();
        let z = Zone::UTC;
        // 7 December 2026 is a Monday.
        assert!(s.holds(z, us("2026-12-07T08:00:00Z")));
        assert!(s.holds(z, us("2026-12-07T17:59:59Z")));
        assert!(!s.holds(z, us("2026-12-07T18:00:00Z")));
        assert!(!s.holds(z, us("2026-12-07T07:59:00Z")));
        assert!(!s.holds(z, us("2026-12-12T12:00:00Z")), "Saturday noon");
        assert!(s.holds(z, us("2026-12-12T23:00:00Z")), "Saturday night");
        assert!(s.holds(z, us("2026-12-13T06:59:00Z")), "into Sunday");
        assert!(!s.holds(z, us("2026-12-13T07:00:00Z")));
        assert!(!Schedule::default().holds(z, us("2026-12-07T12:00:00Z")));
    }

    #[test]
    fn the_next_change_is_the_next_edge_that_changes_anything() {
        let z = Zone::UTC;
        let s = Schedule::parse(&["Mon-Fri 08:00-18:00"]).unwrap();
        let t = us("2026-12-07T12:00:00Z");
        assert_eq!(s.next_change(z, t), Some(us("2026-12-07T18:00:00Z")));
        // Friday evening: next Monday morning.
        let t = us("2026-12-11T19:00:00Z");
        assert_eq!(s.next_change(z, t), Some(us("2026-12-14T08:00:00Z")));
        // Back-to-back windows change only where neither holds.
        let s = Schedule::parse(&["daily 22:00-24:00", "daily 00:00-07:00"]).unwrap();
        let t = us("2026-12-07T23:00:00Z");
        assert_eq!(s.next_change(z, t), Some(us("2026-12-08T07:00:00Z")));
        assert_eq!(Schedule::default().next_change(z, t), None);
        let always = Schedule::parse(&["daily 00:00-24:00"]).unwrap();
        assert_eq!(always.next_change(z, t), None);
        assert!(always.holds(z, t));
    }

    #[test]
    fn a_switch_by_hand_holds_until_the_schedule_next_changes() {
        let z = Zone::UTC;
        let s = Schedule::parse(&["daily 08:00-18:00"]).unwrap();
        // Switched off at noon inside the window: off until 08:00 the next day
        // (at 18:00 the schedule agrees, at 08:00 it takes over again).
        let off = Hand {
            private: false,
            since_us: us("2026-12-07T12:00:00Z"),
        };
        let t = us("2026-12-07T13:00:00Z");
        assert!(!s.private_at(z, Some(&off), t));
        assert_eq!(s.hand_ends(z, &off), Some(us("2026-12-07T18:00:00Z")));
        assert_eq!(
            s.private_changes(z, Some(&off), t),
            Some(us("2026-12-08T08:00:00Z"))
        );
        assert!(s.private_at(z, Some(&off), us("2026-12-08T08:00:00Z")));
        // Switched on in the evening: private through the next day's window.
        let on = Hand {
            private: true,
            since_us: us("2026-12-07T20:00:00Z"),
        };
        assert_eq!(
            s.private_changes(z, Some(&on), us("2026-12-07T21:00:00Z")),
            Some(us("2026-12-08T18:00:00Z"))
        );
        // With no schedule a switch by hand holds for ever.
        let none = Schedule::default();
        assert!(none.private_at(z, Some(&on), i64::MAX / 2));
        assert_eq!(none.private_changes(z, Some(&on), 0), None);
        assert_eq!(none.private_changes(z, None, 0), None);
    }

    #[test]
    fn local_windows_follow_dst() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let s = Schedule::parse(&["daily 08:00-18:00"]).unwrap();
        // Saturday 24 October 2026, summer time: 18:00 local is 16:00 UTC.
        let t = us("2026-10-24T12:00:00Z");
        assert_eq!(s.next_change(berlin, t), Some(us("2026-10-24T16:00:00Z")));
        // After the fall back, 08:00 local is 07:00 UTC.
        let t = us("2026-10-24T20:00:00Z");
        assert_eq!(s.next_change(berlin, t), Some(us("2026-10-25T07:00:00Z")));
        assert!(s.holds(berlin, us("2026-10-25T07:00:00Z")));
        assert!(!s.holds(berlin, us("2026-10-25T06:59:00Z")));
    }
}
