//! How many lines a camera stream may log (pure): a few in each window, the
//! rest counted and said with the next line let through, so a flapping camera
//! cannot fill the journal while the first failures and the state of things
//! still show.

use std::time::{Duration, Instant};

pub struct LogBudget {
    lines: u32,
    window: Duration,
    began: Option<Instant>,
    used: u32,
    held: u64,
}

impl LogBudget {
    /// At most `lines` lines in each `window`.
    pub fn new(lines: u32, window: Duration) -> LogBudget {
        LogBudget {
            lines,
            window,
            began: None,
            used: 0,
            held: 0,
        }
    }

    /// Whether a line may be logged at `now`: `Some` with a note of the lines
    /// held back since the last one let through ("" when none), `None` to hold
    /// this one back too.
    pub fn take(&mut self, now: Instant) -> Option<String> {
        if self
            .began
            .is_none_or(|b| now.duration_since(b) >= self.window)
        {
            self.began = Some(now);
            self.used = 0;
        }
        if self.used >= self.lines {
            self.held += 1;
            return None;
        }
        self.used += 1;
        let note = match std::mem::take(&mut self.held) {
            0 => String::new(),
            n => format!(" ({n} similar lines held back)"),
        };
        Some(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_lines_a_window_and_the_rest_counted() {
        let t0 = Instant::now();
        let mut b = LogBudget::new(3, Duration::from_secs(600));
        let at = |s: u64| t0 + Duration::from_secs(s);
        let said: Vec<Option<String>> = (0..6).map(|i| b.take(at(i))).collect();
        assert_eq!(
            said,
            [
                Some(String::new()),
                Some(String::new()),
                Some(String::new()),
                None,
                None,
                None
            ]
        );
        // The next window lets lines through again, the first saying what was held.
        assert_eq!(
            b.take(at(601)).as_deref(),
            Some(" (3 similar lines held back)")
        );
        assert_eq!(b.take(at(602)).as_deref(), Some(""));
    }
}
