//! Live motion detection of one camera: a dedicated thread that takes the frames
//! of the analysed stream from the hub, decodes them, analyses at the configured
//! rate, and stores events and the per-second activity level.
//!
//! Where frames are missing (the hub's gap: this thread fell behind, or the
//! session ended), decoding starts over at the next key frame and the detector
//! learns the picture afresh: pictures decoded from missing references are
//! damaged, and the jump to the true picture would look like motion.

use super::analyser::Analyser;
use super::decode::{HARDWARE_PATIENCE, StreamDecoder, tries_hardware};
use super::events::{Event, EventTracker, MERGE_GAP_S};
use super::notices::{Notice, Notices, Phase};
use crate::config::{DecoderChoice, Motion};
use crate::footage::Footage;
use crate::ingest::frame::{Frame, VideoParams};
use crate::ingest::health::Meters;
use crate::ingest::hub::StreamEvent;
use crate::ingest::motion_signal::MotionSignal;
use crate::store::{EventRow, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Width of the picture an event's start notice carries (a phone's notification).
const ALERT_PICTURE_WIDTH: u32 = 640;

#[derive(Debug, Default, Clone, Copy)]
pub struct MotionStats {
    pub analysed: u64,
    pub events: u64,
}

/// `signal` is told of every picture analysed, for motion-only recording.
pub fn spawn(
    camera: String,
    motion: Motion,
    footage: Arc<Footage>,
    signal: Arc<MotionSignal>,
    notices: Notices,
    health: Arc<crate::ingest::health::Health>,
    rx: mpsc::Receiver<StreamEvent>,
) -> std::io::Result<std::thread::JoinHandle<MotionStats>> {
    std::thread::Builder::new()
        .name(format!("motion-{camera}"))
        .spawn(move || {
            let fps = f64::from(motion.detector.fps);
            let choice = motion.decoder;
            let analyser = Analyser::new(motion.detector);
            Live {
                camera,
                store: footage.store().clone(),
                footage,
                signal,
                decoder: None,
                choice,
                hardware_failed: false,
                unanswered: 0,
                awaiting_key: true,
                analyser,
                tracker: EventTracker::new(fps, MERGE_GAP_S),
                activity: BTreeMap::new(),
                peak_picture: None,
                notices,
                told: None,
                stats: MotionStats::default(),
                health,
            }
            .run(rx)
        })
}

struct Live {
    camera: String,
    store: Arc<Store>,
    /// Event pictures are sealed through it when footage is.
    footage: Arc<Footage>,
    signal: Arc<MotionSignal>,
    decoder: Option<(Arc<VideoParams>, StreamDecoder)>,
    choice: DecoderChoice,
    /// The hardware decoder failed on this stream: told once, and `auto` stays
    /// in software from then on.
    hardware_failed: bool,
    /// Frames a hardware decoder took without giving a picture back.
    unanswered: u32,
    /// Frames are skipped until a key frame: at the start and after a gap.
    awaiting_key: bool,
    analyser: Analyser,
    tracker: EventTracker,
    /// Highest score per second, not yet stored.
    activity: BTreeMap<i64, f32>,
    /// The picture at the current event's peak, for its snapshot.
    peak_picture: Option<ffmpeg_next::frame::Video>,
    notices: Notices,
    /// The running event last told of: its start, and when (seconds).
    told: Option<(f64, f64)>,
    stats: MotionStats,
    /// The analysed stream's health: its meters count pictures, time and events.
    health: Arc<crate::ingest::health::Health>,
}

impl Live {
    fn run(mut self, mut rx: mpsc::Receiver<StreamEvent>) -> MotionStats {
        while let Some(ev) = rx.blocking_recv() {
            match ev {
                StreamEvent::Frame(f) => {
                    let t = std::time::Instant::now();
                    self.frame(&f);
                    let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                    Meters::add(&self.health.meters.detection_us, us);
                }
                StreamEvent::Gap { .. } => {
                    self.decoder = None;
                    self.awaiting_key = true;
                    self.analyser.restart();
                }
                StreamEvent::Audio(_) => {}
            }
            if self.activity.len() >= 5 {
                self.flush_activity();
            }
        }
        if let Some(e) = self.tracker.finish() {
            self.store_event(&e);
        }
        self.flush_activity();
        self.stats
    }

    fn frame(&mut self, f: &Frame) {
        if self.awaiting_key && !f.key {
            return;
        }
        self.awaiting_key = false;
        let stale = self.decoder.as_ref().is_none_or(|(p, _)| !f.has_params(p));
        if stale {
            self.decoder = self.open_decoder(&f.params).map(|d| (f.params.clone(), d));
        }
        let Some((_, dec)) = self.decoder.as_mut() else {
            return;
        };
        let hardware = dec.is_hardware();
        let Some(picture) = dec.decode(&f.data, f.pts) else {
            if hardware {
                self.unanswered += 1;
                if self.unanswered > HARDWARE_PATIENCE {
                    self.hardware_gave_up();
                }
            }
            return;
        };
        self.unanswered = 0;
        // The same time the recorder's gate sees for this frame.
        let t_us = f.wall_us;
        let t = t_us as f64 / 1e6;
        let d = match self.analyser.analyse(t, picture) {
            Ok(Some(d)) => d,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(camera = %self.camera, "motion detection cannot scale: {e}");
                return;
            }
        };
        self.signal.saw(t_us, d.motion);
        self.stats.analysed += 1;
        Meters::add(&self.health.meters.analysed_pictures, 1);
        let level = self
            .activity
            .entry(t_us.div_euclid(1_000_000))
            .or_insert(0.0);
        *level = level.max(d.score);
        let ended = self.tracker.push(t, &d);
        // A copy of the picture only when it is the current event's new peak.
        let peak = self
            .tracker
            .current()
            .is_some_and(|e| e.peak_at == t)
            .then(|| picture.clone());
        if let Some(e) = ended {
            self.store_event(&e);
        }
        if peak.is_some() {
            self.peak_picture = peak;
        }
        self.tell_running(t);
    }

    /// A decoder for the stream as the camera's `decoder` setting asks, telling
    /// the camera's health which; none (and why in the log) when none opens.
    fn open_decoder(&mut self, params: &VideoParams) -> Option<StreamDecoder> {
        self.unanswered = 0;
        let opened = if tries_hardware(self.choice, self.hardware_failed) {
            match StreamDecoder::hardware(params) {
                Ok(d) => Ok(d),
                Err(e) if self.choice == DecoderChoice::Auto => {
                    tracing::info!(camera = %self.camera, "motion detection decodes in software: {e:#}");
                    self.hardware_failed = true;
                    StreamDecoder::new(params)
                }
                Err(e) => Err(e),
            }
        } else {
            StreamDecoder::new(params)
        };
        match opened {
            Ok(d) => {
                if d.is_hardware() {
                    tracing::info!(camera = %self.camera, "motion detection decodes with {}", d.name());
                }
                self.health.meters.hardware_decoding.store(
                    u64::from(d.is_hardware()),
                    std::sync::atomic::Ordering::Relaxed,
                );
                Some(d)
            }
            Err(e) => {
                // A forced hardware decoder that cannot open says so once, not at
                // every key frame.
                let told = self.choice == DecoderChoice::Hardware
                    && std::mem::replace(&mut self.hardware_failed, true);
                if !told {
                    tracing::warn!(camera = %self.camera, "motion detection cannot decode: {e:#}");
                }
                None
            }
        }
    }

    /// The hardware decoder opened but gives no pictures: `auto` goes on in
    /// software from the next key frame; `hardware` says so once and keeps trying.
    fn hardware_gave_up(&mut self) {
        self.unanswered = 0;
        if self.hardware_failed {
            return;
        }
        tracing::warn!(
            camera = %self.camera,
            "the hardware decoder gave no picture for {HARDWARE_PATIENCE} frames{}",
            if self.choice == DecoderChoice::Auto { "; decoding in software" } else { "" }
        );
        self.hardware_failed = true;
        if self.choice == DecoderChoice::Auto {
            self.decoder = None;
            self.awaiting_key = true;
            self.analyser.restart();
        }
    }

    /// A notice of the running event: when it starts, then at most once a second.
    fn tell_running(&mut self, t: f64) {
        let Some(e) = self.tracker.current() else {
            return;
        };
        let phase = match self.told {
            Some((start, _)) if start != e.start => Phase::Started,
            None => Phase::Started,
            Some((_, at)) if t - at >= 1.0 => Phase::Updated,
            Some(_) => return,
        };
        let mut n = notice(&self.camera, phase, None, e);
        if phase == Phase::Started {
            n.picture = self.start_thumbnail();
        }
        self.told = Some((e.start, t));
        let _ = self.notices.send(n);
    }

    /// The event's picture so far (its first, at the start), small.
    fn start_thumbnail(&self) -> Option<Arc<Vec<u8>>> {
        let p = self.peak_picture.as_ref()?;
        match super::snapshot::jpeg(p, ALERT_PICTURE_WIDTH) {
            Ok(j) => Some(Arc::new(j)),
            Err(e) => {
                tracing::warn!(camera = %self.camera, "cannot make the event's thumbnail: {e:#}");
                None
            }
        }
    }

    fn store_event(&mut self, e: &Event) {
        let (w, h) = self.analyser.size().unwrap_or((1, 1));
        let row = EventRow {
            id: 0,
            camera: self.camera.clone(),
            start_us: seconds_to_us(e.start),
            end_us: seconds_to_us(e.end),
            peak: e.peak,
            peak_us: seconds_to_us(e.peak_at),
            bbox: e.bbox.map(|b| {
                format!(
                    "{:.3},{:.3},{:.3},{:.3}",
                    b.x0 as f32 / w as f32,
                    b.y0 as f32 / h as f32,
                    (b.x1 + 1) as f32 / w as f32,
                    (b.y1 + 1) as f32 / h as f32
                )
            }),
            zones: e.zones.clone(),
        };
        let pictures = self.peak_picture.take().and_then(|p| {
            let full = super::snapshot::jpeg(&p, 1920);
            let thumb = super::snapshot::jpeg(&p, super::snapshot::THUMB_WIDTH);
            match (full, thumb) {
                (Ok(f), Ok(t)) => Some((f, t)),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(camera = %self.camera, "cannot make the event snapshot: {e:#}");
                    None
                }
            }
        });
        let (pictures, key_id) = match pictures {
            None => (None, None),
            Some((f, t)) => match self.footage.seal_pictures([&f, &t]) {
                Ok(([f, t], key)) => (Some((f, t)), key),
                Err(e) => {
                    tracing::warn!(camera = %self.camera, "cannot seal the event snapshot: {e}");
                    (None, None)
                }
            },
        };
        match self.store.insert_event(
            &row,
            pictures.as_ref().map(|(f, t)| (f.as_slice(), t.as_slice())),
            key_id,
        ) {
            Ok(id) => {
                self.stats.events += 1;
                Meters::add(&self.health.meters.events, 1);
                self.told = None;
                let _ = self
                    .notices
                    .send(notice(&self.camera, Phase::Ended, Some(id), e));
            }
            Err(e) => tracing::error!(camera = %self.camera, "cannot store a motion event: {e}"),
        }
    }

    fn flush_activity(&mut self) {
        if self.activity.is_empty() {
            return;
        }
        let levels: Vec<(i64, f32)> = std::mem::take(&mut self.activity).into_iter().collect();
        if let Err(e) = self.store.add_activity(&self.camera, &levels) {
            tracing::error!(camera = %self.camera, "cannot store motion activity: {e}");
        }
    }
}

fn notice(camera: &str, phase: Phase, id: Option<i64>, e: &Event) -> Notice {
    Notice {
        camera: camera.to_owned(),
        phase,
        id,
        start_us: seconds_to_us(e.start),
        end_us: seconds_to_us(e.end),
        peak: e.peak,
        zones: e.zones.clone(),
        picture: None,
    }
}

/// Seconds since 1970 (the tracker's unit) as microseconds; `as` from a float
/// saturates, and these are times near now.
#[allow(
    clippy::cast_possible_truncation,
    reason = "float to integer saturates"
)]
fn seconds_to_us(s: f64) -> i64 {
    (s * 1e6).round() as i64
}
