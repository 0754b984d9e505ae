//! The running recorder: opens the data directory (lock, identity, index, recovery), starts
//! one ingest task and one recorder per camera stream plus periodic retention, and
//! on shutdown lets every recorder finish its open segment.

use crate::config::{Config, RecordMode, StreamKind};
use crate::ingest::health::Health;
use crate::ingest::hub::Hub;
use crate::ingest::motion_signal::MotionSignal;
use crate::ingest::rtsp::{self, StreamSpec};
use crate::media::clock;
use crate::record::recorder::{self, RecorderConfig, RecorderStats};
use crate::record::retention::{self, Policy};
use crate::record::segmenter::SegmenterConfig;
use crate::record::{data_dir, recovery};
use crate::store::Store;
use anyhow::Context;
use std::sync::Arc;
use tokio::sync::watch;

/// Frames a recorder may fall behind by before it records a gap (about a minute
/// at typical rates; memory is used only while it is behind).
const RECORDER_QUEUE: usize = 1500;
/// Frames motion detection may fall behind by; past that it skips ahead.
const MOTION_QUEUE: usize = 300;

/// Old exports and stray export files go (blocking).
fn sweep_exports(dir: &std::path::Path, store: &crate::store::Store) {
    let now = chrono::Utc::now().timestamp_micros();
    match crate::record::export_file::sweep(dir, store, now) {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} old or unfinished export files"),
        Err(e) => tracing::warn!("cannot sweep the exports: {e:#}"),
    }
}

/// A stream's final counts, logged at shutdown.
#[derive(Debug, Clone)]
pub struct StreamReport {
    pub camera: String,
    pub stream: StreamKind,
    pub frames_received: u64,
    pub recorder: RecorderStats,
}

/// Records every camera until `shutdown` becomes true.
pub async fn run(
    cfg: Config,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Vec<StreamReport>> {
    let dir = cfg.storage.data_dir.clone();
    let (_lock, store) = {
        let (dir, cache) = (dir.clone(), cfg.storage.index_cache);
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let lock = data_dir::lock(&dir)?;
            let opened = data_dir::open(&dir)?;
            let store = opened.store;
            store.set_cache_size(cache)?;
            for w in crate::security::file_modes::check(&dir) {
                tracing::warn!("{w}");
            }
            let scope = if opened.new_index {
                recovery::Scope::Full
            } else {
                recovery::Scope::Recent
            };
            let report = recovery::check(&dir, &store, true, scope)?;
            crate::record::reserve::ensure(&dir);
            let interrupted = store.exports_interrupted()?;
            if interrupted > 0 {
                tracing::info!("{interrupted} exports were cut off by the last stop");
            }
            sweep_exports(&dir, &store);
            if !report.problems.is_empty() {
                tracing::info!(
                    "start-up recovery repaired {} problems",
                    report.problems.len()
                );
            }
            Ok((lock, store))
        })
        .await??
    };
    let seg_cfg = SegmenterConfig {
        segment_90k: clock::duration_90k(cfg.storage.segment_duration),
        fragment_90k: clock::duration_90k(cfg.storage.fragment_duration),
    };
    // Every stream to ingest (to record, to analyse, or both), with its health,
    // known before anything starts.
    struct Planned<'a> {
        cam: &'a crate::config::Camera,
        kind: StreamKind,
        url: url::Url,
        record: bool,
        motion: bool,
    }
    let mut planned = Vec::new();
    for cam in &cfg.cameras {
        let record = cam.record != RecordMode::Off;
        // Detection and live view use the sub stream when there is one; a camera
        // that records nothing is still watched live and analysed.
        let analyse_main = cam.motion.enabled && cam.sub_url.is_none();
        if record || cam.sub_url.is_none() {
            planned.push(Planned {
                cam,
                kind: StreamKind::Main,
                url: cam.url.clone(),
                record,
                motion: analyse_main,
            });
        }
        if let Some(sub) = &cam.sub_url {
            if cam.record_sub || cam.motion.enabled || !record {
                planned.push(Planned {
                    cam,
                    kind: StreamKind::Sub,
                    url: sub.clone(),
                    record: record && cam.record_sub,
                    motion: cam.motion.enabled,
                });
            }
        }
    }
    let health: Vec<Arc<Health>> = planned.iter().map(|_| Arc::default()).collect();
    let health_map = planned
        .iter()
        .zip(&health)
        .map(|(p, h)| ((p.cam.name.clone(), p.kind), h.clone()))
        .collect();
    // Every hub keeps its current GOP, so a live viewer of either stream
    // starts at once.
    let hubs: Vec<Arc<Hub>> = planned.iter().map(|_| Hub::with_live()).collect();
    let live_hubs = planned
        .iter()
        .zip(&hubs)
        .map(|(p, h)| ((p.cam.name.clone(), p.kind), h.clone()))
        .collect();
    let notices = crate::motion::notices::channel();
    // The web server first: a port that is taken or a bad certificate stops the
    // start before any recording begins.
    let web = match &cfg.server {
        Some(server) => Some(
            start_web(
                &cfg,
                server,
                store.clone(),
                health_map,
                live_hubs,
                notices.clone(),
                shutdown.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let mut ingest = Vec::new();
    let mut recorders = Vec::new();
    let mut detectors = Vec::new();
    // Per camera: what its detector has seen, for its recorders.
    let mut signals: std::collections::HashMap<String, Arc<MotionSignal>> =
        std::collections::HashMap::new();
    for ((p, health), hub) in planned.into_iter().zip(health).zip(hubs) {
        let (cam, kind) = (p.cam, p.kind);
        let signal = signals.entry(cam.name.clone()).or_default().clone();
        if p.record {
            let stream_id = {
                let (store, name) = (store.clone(), cam.name.clone());
                tokio::task::spawn_blocking(move || store.stream_id(&name, kind)).await??
            };
            let rx = hub.subscribe(RECORDER_QUEUE);
            recorders.push((
                cam.name.clone(),
                kind,
                recorder::spawn(
                    RecorderConfig {
                        data_dir: dir.clone(),
                        camera: cam.name.clone(),
                        stream: kind,
                        stream_id,
                        segmenter: seg_cfg,
                        flush_interval: cfg.storage.flush_interval,
                        motion: (cam.record == RecordMode::Motion).then(|| {
                            (
                                crate::record::motion_gate::MotionGate::new(
                                    clock::duration_us(cam.motion.pre_roll),
                                    clock::duration_us(cam.motion.post_roll),
                                ),
                                signal.clone(),
                            )
                        }),
                    },
                    store.clone(),
                    rx,
                )?,
            ));
        }
        if p.motion {
            let rx = hub.subscribe(MOTION_QUEUE);
            detectors.push((
                cam.name.clone(),
                crate::motion::live::spawn(
                    cam.name.clone(),
                    cam.motion.clone(),
                    store.clone(),
                    signal.clone(),
                    notices.clone(),
                    rx,
                )?,
            ));
        }
        let spec = StreamSpec {
            camera: cam.clone(),
            kind,
            url: p.url,
        };
        ingest.push((
            cam.name.clone(),
            kind,
            tokio::spawn(rtsp::run(spec, hub, health, shutdown.clone())),
        ));
    }
    tracing::info!(
        "recording {} streams into {}",
        recorders.len(),
        dir.display()
    );
    let policy = Policy::of(&cfg);
    let sessions = cfg.server.as_ref().map(|s| (s.session_idle, s.session_max));
    let mut tick = tokio::time::interval(cfg.storage.retention_interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let (dir, store, policy) = (dir.clone(), store.clone(), policy.clone());
                match tokio::task::spawn_blocking(move || {
                    let r = retention::run_once(&dir, &store, &policy);
                    crate::record::reserve::ensure(&dir);
                    sweep_exports(&dir, &store);
                    if let Some((idle, max)) = sessions {
                        // Expired sessions no request will come back for.
                        let now = chrono::Utc::now().timestamp_micros();
                        let (idle, max) = (clock::duration_us(idle), clock::duration_us(max));
                        if let Err(e) = store.purge_sessions(now - idle, now - max) {
                            tracing::warn!("cannot remove expired sessions: {e}");
                        }
                    }
                    r
                }).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("retention failed: {e:#}"),
                    Err(e) => tracing::error!("retention task failed: {e}"),
                }
            }
            _ = shutdown.wait_for(|&s| s) => break,
        }
    }
    tracing::info!("stopping: finishing open segments");
    if let Some(w) = web {
        match w.await {
            Ok(Err(e)) => tracing::error!("web server: {e:#}"),
            Err(e) => tracing::error!("web server task: {e}"),
            Ok(Ok(())) => {}
        }
    }
    let mut received = std::collections::HashMap::new();
    for (camera, stream, task) in ingest {
        received.insert((camera, stream), task.await.map(|s| s.frames).unwrap_or(0));
    }
    let mut reports = Vec::new();
    for (camera, stream, rec) in recorders {
        let frames_received = received
            .get(&(camera.clone(), stream))
            .copied()
            .unwrap_or(0);
        let recorder = tokio::task::spawn_blocking(move || rec.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the recorder of {camera}/{stream} panicked"))?;
        tracing::info!(
            camera = %camera, stream = stream.as_str(),
            "stopped: frames received {frames_received}, recorded {}, before first key frame {}, failed {}, dropped {}, segments {}, idle {}",
            recorder.frames_written, recorder.frames_before_key, recorder.frames_failed, recorder.frames_dropped, recorder.segments, recorder.frames_idle
        );
        reports.push(StreamReport {
            camera,
            stream,
            frames_received,
            recorder,
        });
    }
    for (camera, det) in detectors {
        match tokio::task::spawn_blocking(move || det.join()).await? {
            Ok(s) => {
                tracing::info!(camera = %camera, "motion detection stopped: {} pictures analysed, {} events", s.analysed, s.events)
            }
            Err(_) => tracing::error!(camera = %camera, "motion detection panicked"),
        }
    }
    Ok(reports)
}

/// Binds the web server (so a taken port fails the start, not later), makes sure
/// an admin exists, and starts serving.
async fn start_web(
    cfg: &Config,
    server: &crate::config::Server,
    store: Arc<Store>,
    health: crate::web::state::HealthMap,
    live: crate::web::state::HubMap,
    notices: crate::motion::notices::Notices,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let listener = std::net::TcpListener::bind(server.listen)
        .with_context(|| format!("cannot listen on {}", server.listen))?;
    let addr = listener.local_addr()?;
    let (tls_cfg, dir) = (server.tls.clone(), cfg.storage.data_dir.clone());
    let state = crate::web::AppState::new(
        cfg.clone(),
        store,
        health,
        live,
        notices,
        tls_cfg != crate::config::Tls::Off,
    );
    let s = state.clone();
    let (tls, admin_pw) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        // The audit log is checked before anyone can add to it; admins see the result.
        let check = s.audit.verify(&[]);
        match &check {
            Ok(n) => tracing::info!("audit log verified: {n} entries, chain intact"),
            Err(e) => tracing::error!("AUDIT LOG TAMPERED: {e}"),
        }
        *s.audit_check.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((chrono::Utc::now().timestamp_micros(), check));
        let tls = crate::web::tls::load(&tls_cfg, &dir)?;
        let first = crate::security::first_password::settle(&dir, &s.accounts())?;
        Ok((tls, first))
    })
    .await??;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("web: serving {scheme}://{addr}/");
    if let Some(file) = admin_pw {
        // The password itself never goes to the console (the journal, under systemd).
        tracing::warn!(
            "the first user, admin, has the password in {} (readable by this account \
             only). Log in at {scheme}://{addr}/ and change it; the file is removed then.",
            file.display()
        );
    }
    Ok(tokio::spawn(crate::web::serve(
        state, listener, tls, shutdown,
    )))
}
