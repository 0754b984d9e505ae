//! The household's time zone (pure): instants (UTC µs) shown as its local times,
//! its calendar days as ranges of instants (23 or 25 hours across a DST change),
//! and local wall times a person picked turned back into instants.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A time zone by its IANA name (`Europe/Berlin`), with the rules compiled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// A zone from its IANA name; `None` when there is no such zone.
    pub fn named(name: &str) -> Option<Zone> {
        name.parse::<Tz>().ok().map(Zone)
    }

    /// The system's zone (`/etc/localtime`, `TZ`), or UTC when it has none we know.
    pub fn system() -> Zone {
        std::env::var("TZ")
            .ok()
            .and_then(|n| Zone::named(n.trim_start_matches(':')))
            .or_else(|| {
                iana_time_zone::get_timezone()
                    .ok()
                    .and_then(|n| Zone::named(&n))
            })
            .unwrap_or(Zone::UTC)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    fn at(&self, us: i64) -> DateTime<Tz> {
        DateTime::<Utc>::from_timestamp_micros(us)
            .unwrap_or_default()
            .with_timezone(&self.0)
    }

    /// The local calendar day an instant falls on.
    pub fn day_of(&self, us: i64) -> NaiveDate {
        self.at(us).date_naive()
    }

    /// The first instant of a local day: midnight, or, where midnight does not
    /// exist (a DST change at 00:00), the first local time after the gap.
    pub fn day_start(&self, day: NaiveDate) -> i64 {
        self.instant(day.and_time(NaiveTime::MIN))
    }

    /// The local day as `[start, end)` in UTC µs: 24 hours, or 23/25 across a DST change.
    pub fn day_bounds(&self, day: NaiveDate) -> (i64, i64) {
        let next = day.succ_opt().unwrap_or(day);
        (self.day_start(day), self.day_start(next))
    }

    /// A local wall time as an instant: the earlier of two when the clock was
    /// turned back over it, and one shifted past the gap when it was turned
    /// forward over it (02:30 on a spring-forward night is 03:30).
    pub fn instant(&self, local: NaiveDateTime) -> i64 {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp_micros(),
            LocalResult::None => {
                // Inside a gap: the offset before it applies, which lands past it.
                let before = self
                    .0
                    .offset_from_utc_datetime(&(local - chrono::Duration::hours(24)))
                    .fix();
                (local - before).and_utc().timestamp_micros()
            }
        }
    }

    /// The zone's offset from UTC at an instant, in seconds.
    pub fn offset_s(&self, us: i64) -> i32 {
        self.at(us).offset().fix().local_minus_utc()
    }

    /// A day's stretches of one offset, `(from_us, to_us, offset_s)`: one on an
    /// ordinary day, two across a DST change (found to the second). A page's
    /// script maps that day's local times to instants and back with them.
    pub fn offsets(&self, day: NaiveDate) -> Vec<(i64, i64, i32)> {
        let (start, end) = self.day_bounds(day);
        let mut out = Vec::new();
        let mut from = start;
        // Offsets change at most a few times a year; a quarter-hour step finds
        // each change, bisection its second.
        let step = 900_000_000;
        let mut t = start;
        while t < end {
            let next = (t + step).min(end - 1);
            if self.offset_s(next) != self.offset_s(t) {
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1_000_000 {
                    let mid = lo + (hi - lo) / 2;
                    if self.offset_s(mid) == self.offset_s(lo) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let at = hi - hi.rem_euclid(1_000_000);
                out.push((from, at, self.offset_s(lo)));
                from = at;
            }
            t = next.max(t + 1);
        }
        out.push((from, end, self.offset_s(end - 1)));
        out
    }

    /// `HH:MM:SS` local.
    pub fn time(&self, us: i64) -> String {
        self.at(us).format("%H:%M:%S").to_string()
    }

    /// Minutes since local midnight.
    pub fn minute_of_day(&self, us: i64) -> u16 {
        use chrono::Timelike;
        let t = self.at(us);
        u16::try_from(t.hour() * 60 + t.minute()).unwrap_or(0)
    }

    /// `HH:MM` local.
    pub fn hm(&self, us: i64) -> String {
        self.at(us).format("%H:%M").to_string()
    }

    /// `Thu 3 Dec 2026, 21:05:09` local: for lists where the day varies.
    pub fn date_time(&self, us: i64) -> String {
        self.at(us).format("%a %-d %b %Y, %H:%M:%S").to_string()
    }

    /// The zone's abbreviation at an instant (`CET`, `CEST`, `UTC`).
    pub fn abbreviation(&self, us: i64) -> String {
        self.at(us).format("%Z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn days_follow_the_zone_across_dst() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // Spring forward (29 March 2026): 23 hours.
        let (a, b) = berlin.day_bounds(d("2026-03-29"));
        assert_eq!(a, us("2026-03-28T23:00:00Z"));
        assert_eq!(b, us("2026-03-29T22:00:00Z"));
        assert_eq!((b - a) / 3_600_000_000, 23);
        // Fall back (25 October 2026): 25 hours.
        let (a, b) = berlin.day_bounds(d("2026-10-25"));
        assert_eq!((b - a) / 3_600_000_000, 25);
        // An ordinary day, and the day an instant falls on.
        let (a, b) = berlin.day_bounds(d("2026-12-03"));
        assert_eq!(a, us("2026-12-02T23:00:00Z"));
        assert_eq!(b - a, 86_400_000_000);
        assert_eq!(berlin.day_of(us("2026-12-02T23:30:00Z")), d("2026-12-03"));
        assert_eq!(
            Zone::UTC.day_of(us("2026-12-02T23:30:00Z")),
            d("2026-12-02")
        );
    }

    #[test]
    fn a_dst_day_has_two_offsets_changing_at_the_second() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let (a, b) = berlin.day_bounds(d("2026-10-25"));
        assert_eq!(
            berlin.offsets(d("2026-10-25")),
            vec![
                (a, us("2026-10-25T01:00:00Z"), 7200),
                (us("2026-10-25T01:00:00Z"), b, 3600)
            ]
        );
        let (a, b) = berlin.day_bounds(d("2026-12-03"));
        assert_eq!(berlin.offsets(d("2026-12-03")), vec![(a, b, 3600)]);
        assert_eq!(Zone::UTC.offsets(d("2026-12-03")).len(), 1);
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_starts_after_the_gap() {
        // Santiago springs forward at 00:00 (6 September 2026): the day starts at 01:00.
        let chile = Zone::named("America/Santiago").unwrap();
        let (a, b) = chile.day_bounds(d("2026-09-06"));
        assert_eq!(chile.time(a), "01:00:00");
        assert_eq!((b - a) / 3_600_000_000, 23);
    }

    #[test]
    fn picked_local_times_become_instants() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(
            berlin.instant(local("2026-12-03T21:00")),
            us("2026-12-03T20:00:00Z")
        );
        // Twice 02:30 on the fall-back night: the first.
        assert_eq!(
            berlin.instant(local("2026-10-25T02:30")),
            us("2026-10-25T00:30:00Z")
        );
        // No 02:30 on the spring-forward night: 03:30 summer time.
        let t = berlin.instant(local("2026-03-29T02:30"));
        assert_eq!(t, us("2026-03-29T01:30:00Z"));
        assert_eq!(berlin.time(t), "03:30:00");
    }

    #[test]
    fn times_are_shown_in_the_zone_with_its_offset() {
        let ny = Zone::named("America/New_York").unwrap();
        let t = us("2026-07-04T16:05:09.250Z");
        assert_eq!(ny.time(t), "12:05:09");
        assert_eq!(ny.hm(t), "12:05");
        assert_eq!(ny.abbreviation(t), "EDT");
        assert_eq!(ny.date_time(t), "Sat 4 Jul 2026, 12:05:09");
        assert_eq!(ny.offset_s(t), -4 * 3600);
        assert!(Zone::named("Mars/Olympus_Mons").is_none());
    }
}
