//! One clock model per RTSP session: maps the camera's media time onto the wall
//! clock, so that the recorder, motion detection and the live view all stamp a
//! frame with the same time.
//!
//! Units are in the names: `*_90k` is 90 kHz media time (a camera's RTP clock,
//! rescaled), `*_us` is microseconds of UTC wall time since 1970.
//!
//! A camera's clock drifts from ours (cheap cameras by 50 ppm and more: 10 s in
//! about two days). The model's output time is the camera's time plus a
//! correction that is slewed toward the arrival times, at most [`MAX_SLEW_PPM`]
//! of the elapsed media time, so the times stay smooth (frame durations change
//! by at most that much) and stay near the wall clock for as long as the session
//! lasts. When the two are more than [`REANCHOR_US`] apart in a way slewing cannot
//! mend (the camera's clock jumped, or runs off by more than the slew), the model
//! re-anchors on the wall clock: output time stays continuous, wall time jumps,
//! and the caller starts a new timeline (a new segment). Frames that arrive late
//! (a network stall and the burst after it) do not move the model unless they
//! stay late for [`LATE_FOR_90K`].

/// Most the correction changes per unit of media time: 500 ppm, as Moonfire NVR.
pub const MAX_SLEW_PPM: i64 = 500;
/// Wall and modelled time this far apart start a new timeline.
pub const REANCHOR_US: i64 = 500_000;
/// Frames arriving later than the model by more than [`REANCHOR_US`] re-anchor it
/// only after this long (a stall and its burst catch up within it).
pub const LATE_FOR_90K: i64 = 3 * TICKS_PER_SECOND;
pub const TICKS_PER_SECOND: i64 = 90_000;

/// 90 kHz ticks as microseconds.
pub fn ticks_to_us(t_90k: i64) -> i64 {
    t_90k * 1_000_000 / TICKS_PER_SECOND
}

/// A duration in microseconds (saturating: durations here come from config and
/// never near 292,000 years).
pub fn duration_us(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A duration in 90 kHz ticks (saturating).
pub fn duration_90k(d: std::time::Duration) -> i64 {
    us_to_ticks(duration_us(d).min(i64::MAX / TICKS_PER_SECOND))
}

/// Microseconds as 90 kHz ticks.
pub fn us_to_ticks(us: i64) -> i64 {
    us * TICKS_PER_SECOND / 1_000_000
}

/// A frame's times under the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Media time with the correction applied (continuous, never going back
    /// while the camera's does not).
    pub pts_90k: i64,
    /// The wall time of the frame.
    pub wall_us: i64,
    /// This frame starts a new timeline: its wall time jumped against its media time.
    pub reanchored: bool,
}

#[derive(Clone, Copy, Debug)]
struct Anchor {
    /// Output media time and wall time at the anchor.
    pts_90k: i64,
    wall_us: i64,
    /// Added to the camera's media time.
    correction_90k: i64,
    last_raw_90k: i64,
    /// Camera media time since which frames have been late beyond the limit.
    late_since_90k: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct ClockModel {
    anchor: Option<Anchor>,
}

impl ClockModel {
    pub fn new() -> ClockModel {
        ClockModel::default()
    }

    /// The correction now applied (ticks added to the camera's media time), for
    /// timestamps on the same clock (audio) and for logs.
    pub fn correction_90k(&self) -> i64 {
        self.anchor.map_or(0, |a| a.correction_90k)
    }

    /// Stamps a frame with camera media time `raw_90k` that arrived at `arrival_us`.
    pub fn stamp(&mut self, raw_90k: i64, arrival_us: i64) -> Stamp {
        let Some(a) = &mut self.anchor else {
            self.anchor = Some(Anchor {
                pts_90k: raw_90k,
                wall_us: arrival_us,
                correction_90k: 0,
                last_raw_90k: raw_90k,
                late_since_90k: None,
            });
            return Stamp {
                pts_90k: raw_90k,
                wall_us: arrival_us,
                reanchored: false,
            };
        };
        let went_back = raw_90k < a.last_raw_90k - us_to_ticks(REANCHOR_US);
        let dt = (raw_90k - a.last_raw_90k).max(0);
        a.last_raw_90k = raw_90k;
        let wall_of = |a: &Anchor, pts: i64| a.wall_us + ticks_to_us(pts - a.pts_90k);
        let pts = raw_90k + a.correction_90k;
        let err_us = arrival_us - wall_of(a, pts);
        let late = err_us > REANCHOR_US;
        if late {
            a.late_since_90k.get_or_insert(raw_90k);
        } else {
            a.late_since_90k = None;
        }
        let late_too_long = a
            .late_since_90k
            .is_some_and(|since| raw_90k - since >= LATE_FOR_90K);
        if went_back || err_us < -REANCHOR_US || late_too_long {
            a.pts_90k = pts;
            a.wall_us = arrival_us;
            a.late_since_90k = None;
            return Stamp {
                pts_90k: pts,
                wall_us: arrival_us,
                reanchored: true,
            };
        }
        // Slew toward the arrival time; a late frame pulls as little as any other.
        let max_step = dt * MAX_SLEW_PPM / 1_000_000;
        let step = us_to_ticks(err_us).clamp(-max_step, max_step);
        a.correction_90k += step;
        let pts = pts + step;
        Stamp {
            pts_90k: pts,
            wall_us: wall_of(a, pts),
            reanchored: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000_000;
    const FRAME: i64 = 6_000; // 15 fps

    /// Runs a camera whose clock runs `ppm` fast (media time per wall time) for
    /// `secs`, with arrival jitter of up to 30 ms; returns the largest distance of
    /// modelled from true wall time, the largest change of a frame's duration,
    /// and how many times it re-anchored.
    fn simulate(ppm: i64, secs: i64) -> (i64, i64, usize) {
        let mut m = ClockModel::new();
        let mut rng = 0x2545_f491_u64;
        let (mut worst, mut worst_dur, mut reanchors) = (0, 0, 0);
        let mut prev: Option<i64> = None;
        for n in 0..secs * 15 {
            let true_us = T0 + n * 1_000_000 / 15;
            let raw = n * FRAME + n * FRAME * ppm / 1_000_000;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let jitter = (rng % 30_000) as i64;
            let s = m.stamp(raw, true_us + jitter);
            reanchors += usize::from(s.reanchored);
            worst = worst.max((s.wall_us - true_us).abs());
            if let Some(p) = prev {
                let raw_dur = FRAME + FRAME * ppm / 1_000_000;
                worst_dur = worst_dur.max((s.pts_90k - p - raw_dur).abs());
            }
            prev = Some(s.pts_90k);
        }
        (worst, worst_dur, reanchors)
    }

    #[test]
    fn a_drifting_camera_stays_on_the_wall_clock_for_days() {
        // 50 ppm either way over three simulated days: unslewed, 13 s off.
        for ppm in [50, -50, 300, -300] {
            let (worst, worst_dur, reanchors) = simulate(ppm, 3 * 86_400);
            assert_eq!(reanchors, 0, "{ppm} ppm");
            assert!(worst < 100_000, "{ppm} ppm: {worst} µs off");
            // At most the slew (3 ticks a frame) and the simulated clock's rounding.
            assert!(
                worst_dur <= 4,
                "{ppm} ppm: a frame changed by {worst_dur} ticks"
            );
        }
    }

    #[test]
    fn a_clock_off_by_more_than_the_slew_is_re_anchored_and_kept_near_wall_time() {
        for ppm in [30_000, -30_000] {
            let (worst, _, reanchors) = simulate(ppm, 3_600);
            assert!(reanchors > 50, "{ppm} ppm: {reanchors}");
            // Late frames wait out LATE_FOR before re-anchoring.
            assert!(worst < 700_000, "{ppm} ppm: {worst} µs off");
        }
    }

    #[test]
    fn a_stall_and_its_burst_do_not_re_anchor_but_a_jump_does() {
        let mut m = ClockModel::new();
        let mut n = 0;
        let at = |m: &mut ClockModel, n: i64, late: i64| {
            m.stamp(n * FRAME, T0 + n * 1_000_000 / 15 + late)
        };
        while n < 150 {
            assert!(!at(&mut m, n, 0).reanchored);
            n += 1;
        }
        // A 2 s stall: 30 frames arrive late, the last on time.
        for k in 0..30 {
            let s = at(&mut m, n, 2_000_000 - k * 66_666);
            assert!(!s.reanchored, "frame {k} of the burst");
            assert!(
                s.wall_us <= T0 + n * 1_000_000 / 15 + 2_000,
                "pulled by the stall"
            );
            n += 1;
        }
        // The camera's clock jumps 10 s ahead: re-anchored at once, output time
        // continuous.
        let before = at(&mut m, n, 0);
        n += 1;
        let s = m.stamp(n * FRAME + 900_000, T0 + n * 1_000_000 / 15);
        assert!(s.reanchored);
        assert_eq!(s.wall_us, T0 + n * 1_000_000 / 15);
        assert_eq!(s.pts_90k - before.pts_90k, FRAME + 900_000);
        // It jumps back: re-anchored at once too.
        n += 1;
        let s = m.stamp(n * FRAME, T0 + n * 1_000_000 / 15);
        assert!(s.reanchored);
        assert_eq!(s.wall_us, T0 + n * 1_000_000 / 15);
    }
}
