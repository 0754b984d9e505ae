//! What a camera's motion detector has seen so far, shared with the camera's
//! recorders for motion-only recording: the wall time of the latest picture with
//! motion, and of the latest picture it analysed at all (how far it has got).

use std::sync::atomic::{AtomicI64, Ordering};

/// Written by the motion thread, read by recorder threads.
#[derive(Debug)]
pub struct MotionSignal {
    last_motion_us: AtomicI64,
    seen_us: AtomicI64,
}

/// A reading of the signal (wall times, µs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MotionView {
    /// The latest picture in which the detector saw motion.
    pub last_motion_us: Option<i64>,
    /// The latest picture the detector analysed.
    pub seen_us: Option<i64>,
}

const NONE: i64 = i64::MIN;

impl Default for MotionSignal {
    fn default() -> Self {
        MotionSignal {
            last_motion_us: AtomicI64::new(NONE),
            seen_us: AtomicI64::new(NONE),
        }
    }
}

impl MotionSignal {
    /// The detector analysed the picture of `t_us`, with or without motion.
    pub fn saw(&self, t_us: i64, motion: bool) {
        if motion {
            self.last_motion_us.store(t_us, Ordering::Relaxed);
        }
        self.seen_us.store(t_us, Ordering::Release);
    }

    pub fn view(&self) -> MotionView {
        let seen = self.seen_us.load(Ordering::Acquire);
        let last = self.last_motion_us.load(Ordering::Relaxed);
        MotionView {
            last_motion_us: (last != NONE).then_some(last),
            seen_us: (seen != NONE).then_some(seen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motion_is_kept_while_quiet_pictures_move_the_progress_on() {
        let s = MotionSignal::default();
        assert_eq!(s.view(), MotionView::default());
        s.saw(10, true);
        s.saw(20, false);
        assert_eq!(
            s.view(),
            MotionView {
                last_motion_us: Some(10),
                seen_us: Some(20)
            }
        );
    }
}
