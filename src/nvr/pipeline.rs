//! One camera's pipeline: per stream an ingest task feeding a hub, a recorder
//! thread and a motion thread on that hub as the camera's settings ask, all
//! started and stopped together and apart from every other camera.

use crate::config::{Camera, RecordMode, StreamKind};
use crate::ingest::health::Health;
use crate::ingest::hub::Hub;
use crate::ingest::motion_signal::MotionSignal;
use crate::ingest::rtsp::{self, IngestStats, StreamSpec};
use crate::media::clock;
use crate::motion::live::MotionStats;
use crate::record::motion_gate::MotionGate;
use crate::record::recorder::{self, RecorderConfig, RecorderStats};
use crate::record::segmenter::SegmenterConfig;
use crate::store::Store;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

/// Frames a recorder may fall behind by before it records a gap (about a minute
/// at typical rates; memory is used only while it is behind).
const RECORDER_QUEUE: usize = 1500;
/// Frames motion detection may fall behind by; past that it skips ahead.
const MOTION_QUEUE: usize = 300;

/// What every camera's pipeline shares.
#[derive(Clone)]
pub struct Shared {
    pub footage: Arc<crate::footage::Footage>,
    pub store: Arc<Store>,
    pub segmenter: SegmenterConfig,
    pub flush_interval: Duration,
    pub notices: crate::motion::notices::Notices,
}

/// A stream's final counts, logged when it stops.
#[derive(Debug, Clone)]
pub struct StreamReport {
    pub camera: String,
    pub stream: StreamKind,
    pub frames_received: u64,
    pub recorder: RecorderStats,
}

/// A stream to pull and what is done with it.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    kind: StreamKind,
    url: url::Url,
    record: bool,
    motion: bool,
}

/// The streams a camera's settings ask for (pure). Detection and live view use
/// the sub stream when there is one; a camera that records nothing is still
/// watched live and analysed.
fn plan(cam: &Camera) -> Vec<Plan> {
    let record = cam.record != RecordMode::Off;
    let mut plans = Vec::new();
    if record || cam.sub_url.is_none() {
        plans.push(Plan {
            kind: StreamKind::Main,
            url: cam.url.clone(),
            record,
            motion: cam.motion.enabled && cam.sub_url.is_none(),
        });
    }
    if let Some(sub) = &cam.sub_url {
        if cam.record_sub || cam.motion.enabled || !record {
            plans.push(Plan {
                kind: StreamKind::Sub,
                url: sub.clone(),
                record: record && cam.record_sub,
                motion: cam.motion.enabled,
            });
        }
    }
    plans
}

/// One stream that runs.
struct Stream {
    kind: StreamKind,
    health: Arc<Health>,
    hub: Arc<Hub>,
    ingest: tokio::task::JoinHandle<IngestStats>,
    recorder: Option<JoinHandle<RecorderStats>>,
}

/// A camera's running pipeline.
pub struct Pipeline {
    camera: String,
    stop: watch::Sender<bool>,
    streams: Vec<Stream>,
    detector: Option<JoinHandle<MotionStats>>,
}

impl Pipeline {
    /// Starts every stream of `cam` (the index lookups run off the runtime).
    pub async fn start(cam: &Camera, shared: &Shared) -> anyhow::Result<Pipeline> {
        let (stop, stopped) = watch::channel(false);
        let signal = Arc::new(MotionSignal::default());
        let mut pipeline = Pipeline {
            camera: cam.name.clone(),
            stop,
            streams: Vec::new(),
            detector: None,
        };
        for p in plan(cam) {
            // Every hub keeps its current GOP, so a live viewer of either
            // stream starts at once.
            let hub = Hub::with_live();
            let health = Arc::new(Health::default());
            let recorder = if p.record {
                let stream_id = {
                    let (store, name, kind) = (shared.store.clone(), cam.name.clone(), p.kind);
                    tokio::task::spawn_blocking(move || store.stream_id(&name, kind)).await??
                };
                let gate = (cam.record == RecordMode::Motion).then(|| {
                    let gate = MotionGate::new(
                        clock::duration_us(cam.motion.pre_roll),
                        clock::duration_us(cam.motion.post_roll),
                    );
                    (gate, signal.clone())
                });
                let cfg = RecorderConfig {
                    footage: shared.footage.clone(),
                    camera: cam.name.clone(),
                    stream: p.kind,
                    stream_id,
                    segmenter: shared.segmenter,
                    flush_interval: shared.flush_interval,
                    motion: gate,
                    health: health.clone(),
                };
                Some(recorder::spawn(
                    cfg,
                    shared.store.clone(),
                    hub.subscribe_batched(RECORDER_QUEUE),
                )?)
            } else {
                None
            };
            if p.motion {
                pipeline.detector = Some(crate::motion::live::spawn(
                    cam.name.clone(),
                    cam.motion.clone(),
                    shared.footage.clone(),
                    signal.clone(),
                    shared.notices.clone(),
                    health.clone(),
                    hub.subscribe(MOTION_QUEUE),
                )?);
            }
            let spec = StreamSpec {
                camera: cam.clone(),
                kind: p.kind,
                url: p.url,
            };
            let ingest = tokio::spawn(rtsp::run(
                spec,
                hub.clone(),
                health.clone(),
                stopped.clone(),
            ));
            pipeline.streams.push(Stream {
                kind: p.kind,
                health,
                hub,
                ingest,
                recorder,
            });
        }
        Ok(pipeline)
    }

    pub fn camera(&self) -> &str {
        &self.camera
    }

    /// Streams that record.
    pub fn recording(&self) -> usize {
        self.streams.iter().filter(|s| s.recorder.is_some()).count()
    }

    /// Each stream's health and hub, for the web's view of what runs.
    pub fn streams(&self) -> impl Iterator<Item = (StreamKind, &Arc<Health>, &Arc<Hub>)> {
        self.streams.iter().map(|s| (s.kind, &s.health, &s.hub))
    }

    /// Asks every stream to stop, without waiting (see [`Pipeline::stop`]).
    pub fn signal_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops the pipeline: the ingest ends and closes its hubs, the recorders
    /// finish their open segments, the detector its event. Logs and returns
    /// each recorded stream's counts.
    pub async fn stop(self) -> Vec<StreamReport> {
        self.signal_stop();
        let camera = self.camera;
        let mut reports = Vec::new();
        for s in self.streams {
            let frames_received = s.ingest.await.map(|s| s.frames).unwrap_or(0);
            // The hub is closed even when the ingest task panicked.
            s.hub.close();
            let Some(rec) = s.recorder else { continue };
            let stream = s.kind;
            let recorder = match tokio::task::spawn_blocking(move || rec.join()).await {
                Ok(Ok(r)) => r,
                _ => {
                    tracing::error!(camera = %camera, stream = stream.as_str(), "the recorder panicked");
                    continue;
                }
            };
            tracing::info!(
                camera = %camera, stream = stream.as_str(),
                "stopped: frames received {frames_received}, recorded {}, before first key frame {}, failed {}, dropped {}, segments {}, idle {}",
                recorder.frames_written, recorder.frames_before_key, recorder.frames_failed, recorder.frames_dropped, recorder.segments, recorder.frames_idle
            );
            reports.push(StreamReport {
                camera: camera.clone(),
                stream,
                frames_received,
                recorder,
            });
        }
        if let Some(det) = self.detector {
            match tokio::task::spawn_blocking(move || det.join()).await {
                Ok(Ok(s)) => tracing::info!(
                    camera = %camera,
                    "motion detection stopped: {} pictures analysed, {} events",
                    s.analysed,
                    s.events
                ),
                _ => tracing::error!(camera = %camera, "motion detection panicked"),
            }
        }
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn camera(extra: &str) -> Camera {
        let text = format!(
            "[storage]\ndata_dir = \"d\"\n\n[[cameras]]\nname = \"a\"\nurl = \"rtsp://10.0.0.1/main\"\n{extra}"
        );
        let cfg = crate::config::Config::parse(&text, Path::new("/h.toml")).expect("config");
        cfg.cameras[0].clone()
    }

    fn kinds(plans: &[Plan]) -> Vec<(StreamKind, bool, bool)> {
        plans.iter().map(|p| (p.kind, p.record, p.motion)).collect()
    }

    #[test]
    fn a_camera_with_a_sub_stream_records_the_main_and_analyses_the_sub() {
        let p = plan(&camera("sub_url = \"rtsp://10.0.0.1/sub\"\n"));
        assert_eq!(
            kinds(&p),
            [
                (StreamKind::Main, true, false),
                (StreamKind::Sub, false, true)
            ]
        );
    }

    #[test]
    fn a_camera_without_a_sub_stream_analyses_its_main() {
        let p = plan(&camera(""));
        assert_eq!(kinds(&p), [(StreamKind::Main, true, true)]);
    }

    #[test]
    fn a_camera_that_records_nothing_is_still_watched_on_its_sub_stream() {
        let p = plan(&camera(
            "sub_url = \"rtsp://10.0.0.1/sub\"\nrecord = \"off\"\n",
        ));
        assert_eq!(kinds(&p), [(StreamKind::Sub, false, true)]);
    }
}
