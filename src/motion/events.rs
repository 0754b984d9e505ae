//! Motion decisions over time become events (pure): an event starts at the first
//! frame of a run of motion that lasted long enough, takes in motion that resumes
//! within a short gap, and ends at its last motion frame. It keeps the peak score
//! (and when), the union of the boxes, and the zones touched.

use super::detector::Decision;
use super::geometry::Rect;
use serde::Serialize;

/// Gap within which resumed motion continues an event (live and offline alike).
pub const MERGE_GAP_S: f64 = 2.0;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Seconds on the caller's clock.
    pub start: f64,
    pub end: f64,
    pub peak: f32,
    pub peak_at: f64,
    pub bbox: Option<Rect>,
    pub zones: Vec<String>,
}

pub struct EventTracker {
    /// Analysis interval, seconds: a frame's motion lasts this long.
    frame_s: f64,
    /// Motion resuming within this many seconds continues the same event.
    merge_gap_s: f64,
    cur: Option<Event>,
}

impl EventTracker {
    pub fn new(fps: f64, merge_gap_s: f64) -> EventTracker {
        EventTracker {
            frame_s: 1.0 / fps.max(0.1),
            merge_gap_s,
            cur: None,
        }
    }

    /// The event in progress.
    pub fn current(&self) -> Option<&Event> {
        self.cur.as_ref()
    }

    /// Takes the decision on the picture at `t`; returns an event that ended.
    pub fn push(&mut self, t: f64, d: &Decision) -> Option<Event> {
        let mut ended = None;
        if let Some(e) = &self.cur {
            if t - e.end > self.merge_gap_s {
                ended = self.cur.take();
            }
        }
        if !d.motion {
            return ended;
        }
        let e = self.cur.get_or_insert_with(|| Event {
            start: t - f64::from(d.run_frames.saturating_sub(1)) * self.frame_s,
            end: t,
            peak: 0.0,
            peak_at: t,
            bbox: None,
            zones: Vec::new(),
        });
        e.end = t + self.frame_s;
        if d.score > e.peak {
            e.peak = d.score;
            e.peak_at = t;
        }
        for b in &d.boxes {
            e.bbox = Some(e.bbox.map_or(*b, |u| u.union(*b)));
        }
        for z in &d.zones {
            if !e.zones.contains(z) {
                e.zones.push(z.clone());
            }
        }
        ended
    }

    /// Ends the current event (at the end of the input).
    pub fn finish(&mut self) -> Option<Event> {
        self.cur.take()
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "test data of known small sizes"
)]
mod tests {
    use super::*;

    fn d(motion: bool, run: u32, score: f32) -> Decision {
        Decision {
            motion,
            run_frames: run,
            score,
            ..Decision::default()
        }
    }

    #[test]
    fn runs_become_events_with_backdated_starts_and_merged_gaps() {
        let mut t = EventTracker::new(5.0, 2.0);
        let mut out = Vec::new();
        // Motion 1.0–3.0 s (reported from the second frame), a 1 s pause, 4.0–5.0 s,
        // then quiet: one event. Then 10.0–11.0 s: another.
        let mut frames: Vec<(f64, Decision)> = Vec::new();
        for i in 0..100 {
            let time = i as f64 * 0.2;
            let moving = (1.0..3.0).contains(&time)
                || (4.0..5.0).contains(&time)
                || (10.0..11.0).contains(&time);
            frames.push((time, d(moving, if moving { 2 } else { 0 }, time as f32)));
        }
        for (time, dec) in &frames {
            out.extend(t.push(*time, dec));
        }
        out.extend(t.finish());
        assert_eq!(out.len(), 2, "{out:?}");
        assert!((out[0].start - 0.8).abs() < 1e-9, "backdated by one frame");
        assert!((out[0].end - 5.0).abs() < 1e-9);
        assert!((out[0].peak_at - 4.8).abs() < 1e-9);
        assert!((out[1].start - 9.8).abs() < 1e-9 && (out[1].end - 11.0).abs() < 1e-9);
    }
}
