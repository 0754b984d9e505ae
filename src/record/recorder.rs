//! The recorder of one camera stream: a dedicated thread that takes frames from the
//! hub a GOP at a time, cuts them with the [`Segmenter`] and writes them with
//! [`SegmentFile`]; its [`Indexer`] thread brings the index along. Blocking file and SQLite work stays
//! off the async runtime.

use super::indexer::Indexer;
use super::motion_gate::MotionGate;
use super::segmenter::{Action, Segmenter, SegmenterConfig};
use super::writer::{Destination, SegmentFile, WriteError};
use crate::config::StreamKind;
use crate::footage::Footage;
use crate::ingest::batch_queue::BatchReceiver;
use crate::ingest::health::Meters;
use crate::ingest::hub::StreamEvent;
use crate::ingest::motion_signal::MotionSignal;
use crate::store::{SegmentClass, Store};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Free bytes needed before writing is tried again after a failure.
pub const MIN_FREE_TO_RETRY: u64 = 2 << 20;

pub struct RecorderConfig {
    pub footage: Arc<Footage>,
    pub camera: String,
    pub stream: StreamKind,
    pub stream_id: i64,
    pub segmenter: SegmenterConfig,
    pub flush_interval: Duration,
    /// Motion-only recording: the gate, and what the camera's motion detector
    /// has seen.
    pub motion: Option<(MotionGate, Arc<MotionSignal>)>,
    /// The stream's health, whose meters count what is recorded as it goes.
    pub health: Arc<crate::ingest::health::Health>,
}

/// What a recorder did, reported when it stops.
#[derive(Debug, Default, Clone, Copy)]
pub struct RecorderStats {
    pub frames_in: u64,
    pub frames_written: u64,
    /// Frames before the first key frame of a session, which cannot start a segment.
    pub frames_before_key: u64,
    /// Frames lost to write errors (a full disk, say).
    pub frames_failed: u64,
    /// Frames this recorder missed because it fell behind ingest.
    pub frames_dropped: u64,
    /// Frames not recorded because nothing moved (motion-only recording).
    pub frames_idle: u64,
    pub segments: u64,
}

pub fn spawn(
    cfg: RecorderConfig,
    store: Arc<Store>,
    rx: BatchReceiver,
) -> std::io::Result<std::thread::JoinHandle<RecorderStats>> {
    let label = format!("{}-{}", cfg.camera, cfg.stream);
    let index = Indexer::spawn(store, cfg.footage.dir().to_path_buf(), label.clone())?;
    std::thread::Builder::new()
        .name(format!("rec-{label}"))
        .spawn(move || Recorder::new(cfg, index).run(rx))
}

struct Recorder {
    cfg: RecorderConfig,
    index: Indexer,
    seg: Segmenter,
    file: Option<SegmentFile>,
    /// A write failed: drop fragments until the next segment starts.
    broken: bool,
    /// Failing since the last successful write (errors are logged once per run of failures).
    failing: bool,
    /// Ended segments whose closing failed (their data would not sync); retried at
    /// every flush and at the end.
    closing: Vec<SegmentFile>,
    last_flush: Instant,
    stats: RecorderStats,
    actions: Vec<Action>,
}

impl Recorder {
    fn new(cfg: RecorderConfig, index: Indexer) -> Self {
        Recorder {
            seg: Segmenter::new(cfg.segmenter),
            cfg,
            index,
            file: None,
            broken: false,
            failing: false,
            closing: Vec::new(),
            last_flush: Instant::now(),
            stats: RecorderStats::default(),
            actions: Vec::new(),
        }
    }

    fn run(mut self, rx: BatchReceiver) -> RecorderStats {
        // Woken at each key frame, and at the latest once a fragment's length
        // (at least 100 ms, the config says) has passed, so a camera with long
        // GOPs still gets its fragments written.
        let fragment_us = crate::media::clock::ticks_to_us(self.cfg.segmenter.fragment_90k);
        let wait = Duration::from_micros(u64::try_from(fragment_us).unwrap_or(0));
        let mut batch = VecDeque::new();
        while rx.recv_batch(&mut batch, wait) {
            let queued = u64::try_from(batch.len()).unwrap_or(u64::MAX);
            self.cfg
                .health
                .meters
                .queued_frames
                .store(queued, std::sync::atomic::Ordering::Relaxed);
            while let Some(ev) = batch.pop_front() {
                self.event(ev);
            }
            if self.last_flush.elapsed() >= self.cfg.flush_interval {
                self.flush();
            }
        }
        self.seg.finish(&mut self.actions);
        self.apply();
        self.retry_closing();
        if let Some((gate, _)) = &self.cfg.motion {
            self.stats.frames_idle += gate.held();
        }
        self.stats.frames_before_key = self.seg.skipped();
        self.index.finish();
        self.stats
    }

    fn event(&mut self, ev: StreamEvent) {
        match ev {
            StreamEvent::Frame(f) => {
                self.stats.frames_in += 1;
                match &mut self.cfg.motion {
                    None => self.seg.push(&f, &mut self.actions),
                    Some((gate, signal)) => {
                        let out = gate.push(f, signal.view());
                        self.stats.frames_idle += out.idle;
                        if out.close {
                            self.seg.finish(&mut self.actions);
                        }
                        for f in &out.frames {
                            self.seg.push(f, &mut self.actions);
                        }
                    }
                }
            }
            StreamEvent::Audio(a) => {
                if self.seg.is_open() {
                    self.seg.push_audio(&a);
                }
            }
            StreamEvent::Gap { dropped } => {
                if dropped > 0 {
                    tracing::warn!(
                        camera = %self.cfg.camera,
                        stream = %self.cfg.stream,
                        "recorder fell behind and missed {dropped} frames"
                    );
                    self.stats.frames_dropped += dropped;
                    Meters::add(&self.cfg.health.meters.dropped_frames, dropped);
                }
                self.seg.finish(&mut self.actions)
            }
        }
        self.apply();
        if self.broken && self.seg.is_open() {
            // Give up on the broken segment: the next key frame tries a new one.
            self.seg.finish(&mut self.actions);
            self.apply();
        }
    }

    fn apply(&mut self) {
        for a in std::mem::take(&mut self.actions) {
            match a {
                Action::Start {
                    wall_us,
                    params,
                    audio,
                } => {
                    // After a failure, a new segment is tried only once the disk has
                    // room again: creating empty files and rows on a full disk helps
                    // nobody and can leave the index behind the files.
                    if self.failing
                        && super::retention::free_space(self.cfg.footage.dir())
                            .is_ok_and(|free| free < MIN_FREE_TO_RETRY)
                    {
                        self.broken = true;
                        continue;
                    }
                    let dest = Destination {
                        footage: &self.cfg.footage,
                        stream_id: self.cfg.stream_id,
                        camera: &self.cfg.camera,
                        stream: self.cfg.stream,
                        class: if self.cfg.motion.is_some() {
                            SegmentClass::Motion
                        } else {
                            SegmentClass::Continuous
                        },
                    };
                    let file = SegmentFile::create(
                        dest,
                        &mut self.index,
                        wall_us,
                        &params,
                        audio.as_deref(),
                    );
                    match file {
                        Ok(f) => {
                            self.file = Some(f);
                            self.broken = false;
                            self.stats.segments += 1;
                        }
                        Err(e) => self.fail(&e),
                    }
                }
                Action::Fragment(frag) => {
                    let res = match &mut self.file {
                        Some(f) if !self.broken => f.append(&frag),
                        _ => {
                            self.stats.frames_failed += u64::from(frag.frames);
                            Meters::add(
                                &self.cfg.health.meters.failed_frames,
                                u64::from(frag.frames),
                            );
                            continue;
                        }
                    };
                    match res {
                        Ok(()) => {
                            self.stats.frames_written += u64::from(frag.frames);
                            Meters::add(
                                &self.cfg.health.meters.recorded_frames,
                                u64::from(frag.frames),
                            );
                            if self.failing {
                                tracing::info!(camera = %self.cfg.camera, stream = %self.cfg.stream, "recording resumed");
                                self.failing = false;
                            }
                        }
                        Err(e) => {
                            self.stats.frames_failed += u64::from(frag.frames);
                            Meters::add(
                                &self.cfg.health.meters.failed_frames,
                                u64::from(frag.frames),
                            );
                            self.fail(&e);
                        }
                    }
                }
                Action::End => {
                    if let Some(mut f) = self.file.take() {
                        if let Err(e) = f.close(&self.index) {
                            self.fail(&e);
                            self.closing.push(f);
                        }
                    }
                }
            }
        }
    }

    fn retry_closing(&mut self) {
        let index = &self.index;
        self.closing.retain_mut(|f| f.close(index).is_err());
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        self.retry_closing();
        if let Some(f) = &mut self.file {
            if let Err(e) = f.flush(&self.index) {
                self.fail(&e);
            }
        }
    }

    fn fail(&mut self, e: &WriteError) {
        if e.is_disk_full() {
            // Give the index room to be brought in line with the files.
            super::reserve::release(self.cfg.footage.dir());
        }
        if !self.failing {
            tracing::error!(
                camera = %self.cfg.camera,
                stream = %self.cfg.stream,
                "recording failed, retrying at each key frame: {e}"
            );
        }
        self.failing = true;
        self.broken = true;
    }
}
