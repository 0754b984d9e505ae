//! `hearth detect`: runs exactly the live detector over a video file and reports
//! events (and, if asked, every analysed frame's score) with times in seconds
//! from the start of the file. This is how detection quality is measured.

use super::analyser::Analyser;
use super::detector::DetectorConfig;
use super::events::{EventTracker, MERGE_GAP_S};
use anyhow::{Context, anyhow};
use ffmpeg_next as ff;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct EventOut {
    pub start: f64,
    pub end: f64,
    pub peak: f32,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FrameOut {
    pub t: f64,
    pub score: f32,
    pub motion: bool,
}

#[derive(Serialize, Debug, Default)]
pub struct Report {
    pub events: Vec<EventOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<Vec<FrameOut>>,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

pub fn detect_file(path: &Path, cfg: &DetectorConfig, frames: bool) -> anyhow::Result<Report> {
    let (mut input, index) = crate::video_file::open(path)?;
    let stream = input
        .stream(index)
        .ok_or_else(|| anyhow!("{} has no video", path.display()))?;
    let tb = f64::from(stream.time_base());
    let mut decoder = super::decode::open_for_detection(
        ff::codec::context::Context::from_parameters(stream.parameters())?,
    )
    .with_context(|| format!("{}: cannot decode its video", path.display()))?;
    let mut run = Run {
        analyser: Analyser::new(cfg.clone()),
        first_pts: None,
        tb,
        tracker: EventTracker::new(f64::from(cfg.fps), MERGE_GAP_S),
        report: Report {
            frames: frames.then(Vec::new),
            ..Report::default()
        },
    };
    let mut frame = ff::frame::Video::empty();
    for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        // A damaged packet is skipped, as a camera's would be.
        if decoder.send_packet(&packet).is_err() {
            continue;
        }
        while decoder.receive_frame(&mut frame).is_ok() {
            run.picture(&frame)?;
        }
    }
    let _ = decoder.send_eof();
    while decoder.receive_frame(&mut frame).is_ok() {
        run.picture(&frame)?;
    }
    if let Some(e) = run.tracker.finish() {
        run.report.events.push(EventOut {
            start: round3(e.start),
            end: round3(e.end),
            peak: e.peak,
        });
    }
    Ok(run.report)
}

struct Run {
    analyser: Analyser,
    first_pts: Option<i64>,
    tb: f64,
    tracker: EventTracker,
    report: Report,
}

impl Run {
    fn picture(&mut self, f: &ff::frame::Video) -> anyhow::Result<()> {
        let Some(pts) = f.timestamp().or(f.pts()) else {
            return Ok(());
        };
        let first = *self.first_pts.get_or_insert(pts);
        let t = (pts - first) as f64 * self.tb;
        let Some(d) = self.analyser.analyse(t, f)? else {
            return Ok(());
        };
        if let Some(frames) = &mut self.report.frames {
            frames.push(FrameOut {
                t: round3(t),
                score: d.score,
                motion: d.motion,
            });
        }
        if let Some(e) = self.tracker.push(t, &d) {
            self.report.events.push(EventOut {
                start: round3(e.start),
                end: round3(e.end),
                peak: e.peak,
            });
        }
        Ok(())
    }
}
