//! Motion-only recording (pure): frames pass while there is motion, plus the
//! post-roll after it; while there is none, the last GOPs covering the pre-roll
//! wait in memory, so a recording starts from a key frame before the trigger.

use crate::ingest::frame::Frame;
use std::collections::VecDeque;
use std::sync::Arc;

pub struct MotionGate {
    pre_roll_us: i64,
    post_roll_us: i64,
    buffer: VecDeque<Arc<Frame>>,
    open: bool,
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
        }
    }

    /// Takes a frame; `last_motion_us` is the wall time of the latest picture in
    /// which the camera's detector saw motion.
    pub fn push(&mut self, f: Arc<Frame>, last_motion_us: Option<i64>) -> GateOut {
        let mut out = GateOut::default();
        let active = last_motion_us.is_some_and(|m| f.wall_us - m <= self.post_roll_us);
        if self.open {
            if active {
                out.frames.push(f);
                return out;
            }
            self.open = false;
            out.close = true;
        }
        if self.buffer.is_empty() && !f.key {
            out.idle += 1;
            return out;
        }
        self.buffer.push_back(f);
        // Keep whole GOPs: drop the oldest while the next GOP still covers the pre-roll.
        let newest = self.buffer.back().map_or(0, |b| b.wall_us);
        while let Some(next_key) = self.buffer.iter().skip(1).position(|b| b.key) {
            if self.buffer[next_key + 1].wall_us > newest - self.pre_roll_us {
                break;
            }
            out.idle += (next_key + 1) as u64;
            self.buffer.drain(..=next_key);
        }
        if active {
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

    #[test]
    fn records_from_a_key_frame_before_the_pre_roll_to_the_post_roll() {
        let mut g = MotionGate::new(3_000_000, 2_000_000);
        let mut recorded = Vec::new();
        let mut closes = Vec::new();
        let mut idle = 0;
        for i in 0..300 {
            let f = frame(i);
            // Motion seen from 10.0 s to 14.0 s.
            let t = f.wall_us;
            let motion = (10_000_000..=14_000_000)
                .contains(&t)
                .then_some(t)
                .or((t > 14_000_000).then_some(14_000_000));
            let out = g.push(f, motion);
            if out.close {
                closes.push(i);
            }
            idle += out.idle;
            recorded.extend(out.frames.iter().map(|f| f.wall_us / 100_000));
        }
        // Key frames every 2 s: the one at or before 7 s is at 6 s; the post-roll ends at 16 s.
        assert_eq!(recorded.first(), Some(&60));
        assert_eq!(recorded.last(), Some(&160));
        assert!(recorded.windows(2).all(|w| w[1] == w[0] + 1), "no hole");
        assert_eq!(closes, vec![161]);
        assert_eq!(idle + recorded.len() as u64 + g.held(), 300);
    }
}
