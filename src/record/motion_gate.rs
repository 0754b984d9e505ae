//! Motion-only recording (pure): frames pass while there is motion, plus the
//! post-roll after it; while there is none, the last GOPs covering the pre-roll
//! wait in memory, so a recording starts from a key frame before the trigger.
//!
//! The detector runs behind the recorder (decoding takes time, and a loaded
//! machine makes it later), so the gate goes by how far the detector has got:
//! it closes only once the detector has seen the post-roll pass with no motion,
//! and holds the pre-roll back from the detector's progress, not the newest frame.
//! A detector further behind than [`MAX_DETECTOR_LAG_US`] counts as stalled.

use crate::ingest::frame::Frame;
use crate::ingest::motion_signal::MotionView;
use std::collections::VecDeque;
use std::sync::Arc;

/// The most the gate waits for the detector (and the most pre-roll it holds
/// beyond the configured one).
pub const MAX_DETECTOR_LAG_US: i64 = 5_000_000;

pub struct MotionGate {
    pre_roll_us: i64,
    post_roll_us: i64,
    buffer: VecDeque<Arc<Frame>>,
    open: bool,
    /// The latest motion when the gate last closed: only later motion opens it.
    closed_after_us: Option<i64>,
}

/// What to do with the frames pushed so far.
#[derive(Debug, Default)]
pub struct GateOut {
    /// The current segment ends before these frames.
    pub close: bool,
    /// Frames to record, in order.
    pub frames: Vec<Arc<Frame>>,
    /// Frames let go (no motion near them).
    pub idle: u64,
}

impl MotionGate {
    pub fn new(pre_roll_us: i64, post_roll_us: i64) -> MotionGate {
        MotionGate {
            pre_roll_us,
            post_roll_us,
            buffer: VecDeque::new(),
            open: false,
            closed_after_us: None,
        }
    }

    /// Takes a frame, with what the camera's detector has seen so far.
    pub fn push(&mut self, f: Arc<Frame>, seen: MotionView) -> GateOut {
        let mut out = GateOut::default();
        let t = f.wall_us;
        if self.open {
            let m = seen.last_motion_us;
            let within = m.is_some_and(|m| t - m <= self.post_roll_us);
            let quiet_seen = m
                .zip(seen.seen_us)
                .is_some_and(|(m, s)| s > m + self.post_roll_us);
            let stalled = seen.seen_us.is_none_or(|s| s < t - MAX_DETECTOR_LAG_US);
            if within || !(quiet_seen || stalled) {
                out.frames.push(f);
                return out;
            }
            self.open = false;
            self.closed_after_us = m;
            out.close = true;
        }
        if self.buffer.is_empty() && !f.key {
            out.idle += 1;
            return out;
        }
        self.buffer.push_back(f);
        // Keep whole GOPs: drop the oldest while the next GOP still covers the
        // pre-roll before the detector's progress.
        let newest = self.buffer.back().map_or(0, |b| b.wall_us);
        let horizon = seen
            .seen_us
            .unwrap_or(i64::MIN)
            .clamp(newest - MAX_DETECTOR_LAG_US, newest);
        while let Some(next_key) = self.buffer.iter().skip(1).position(|b| b.key) {
            if self.buffer[next_key + 1].wall_us > horizon - self.pre_roll_us {
                break;
            }
            out.idle += (next_key + 1) as u64;
            self.buffer.drain(..=next_key);
        }
        let fresh = seen
            .last_motion_us
            .is_some_and(|m| self.closed_after_us.is_none_or(|c| m > c));
        if fresh {
            self.open = true;
            out.frames.extend(self.buffer.drain(..));
        }
        out
    }

    /// Frames held back at the end (not recorded).
    pub fn held(&self) -> u64 {
        self.buffer.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(i: i64) -> Arc<Frame> {
        // 10 fps, a key frame every 2 s.
        Frame::for_test(i * 9000, i * 100_000, i % 20 == 0)
    }

    /// Runs 30 s of frames past a detector `lag_us` behind that saw motion from
    /// 10.0 s to 14.0 s and stops analysing at `stops_at_us`; returns the
    /// recorded frames (tenths of a second) and the frames that closed the gate.
    fn run(lag_us: i64, stops_at_us: i64) -> (Vec<i64>, Vec<i64>) {
        let mut g = MotionGate::new(3_000_000, 2_000_000);
        let (mut recorded, mut closes, mut idle) = (Vec::new(), Vec::new(), 0);
        for i in 0..300 {
            let f = frame(i);
            let seen = (f.wall_us - lag_us).min(stops_at_us);
            let view = MotionView {
                last_motion_us: (seen >= 10_000_000).then_some(seen.min(14_000_000)),
                seen_us: (seen >= 0).then_some(seen),
            };
            let out = g.push(f, view);
            if out.close {
                closes.push(i);
            }
            idle += out.idle;
            recorded.extend(out.frames.iter().map(|f| f.wall_us / 100_000));
        }
        assert!(recorded.windows(2).all(|w| w[1] == w[0] + 1), "no hole");
        assert_eq!(idle + recorded.len() as u64 + g.held(), 300);
        (recorded, closes)
    }

    #[test]
    fn records_from_a_key_frame_before_the_pre_roll_to_the_post_roll() {
        let (recorded, closes) = run(0, i64::MAX);
        // Key frames every 2 s: the one at or before 7 s is at 6 s; the post-roll ends at 16 s.
        assert_eq!(recorded.first(), Some(&60));
        assert_eq!(recorded.last(), Some(&160));
        assert_eq!(closes, vec![161]);
    }

    #[test]
    fn a_detector_behind_by_more_than_both_rolls_still_gets_them() {
        // It tells of the motion at 10 s when the recorder is at 14 s, and of
        // the quiet after 16 s when it is at 20 s.
        let (recorded, closes) = run(4_000_000, i64::MAX);
        assert_eq!(recorded.first(), Some(&60));
        assert_eq!(recorded.last(), Some(&200));
        assert_eq!(closes, vec![201]);
    }

    #[test]
    fn a_stalled_detector_does_not_keep_the_gate_open() {
        // It stops at 12 s, mid-motion: the gate waits MAX_DETECTOR_LAG for it.
        let (recorded, closes) = run(0, 12_000_000);
        assert_eq!(recorded.first(), Some(&60));
        assert_eq!(recorded.last(), Some(&170));
        assert_eq!(closes, vec![171]);
    }
}
