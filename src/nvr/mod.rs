//! The running recorder, a small supervisor: opens the data directory, starts
//! the web server when configured and one pipeline per camera
//! (`pipeline.rs`), runs periodic retention, reloads the config on SIGHUP or
//! when the file changes (only the cameras whose settings changed stop and
//! start again), and on shutdown lets every recorder finish its open segment.

mod open;
pub use open::footage;
mod pipeline;
mod privacy;
pub mod status;

pub use pipeline::StreamReport;

use crate::audit_record::{Record, action};
use crate::config::{Camera, Config, RecordMode};
use crate::config_diff::{self, Diff};
use crate::media::clock;
use crate::record::retention::{self, Policy};
use crate::record::segmenter::SegmenterConfig;
use crate::security::audit_log::AuditLog;
use crate::store::Store;
use crate::store::switches::Off;
use crate::web::state::Running;
use anyhow::Context;
use pipeline::{Pipeline, Shared};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the config file is read to see whether it changed.
const CONFIG_POLL: Duration = Duration::from_secs(2);

/// Records every camera in `cfg` (read from `path`) until `shutdown` becomes
/// true, following the file's changes; returns the counts of every recorded
/// stream that stopped, by reload or at the end. `listening` hears once the web
/// server (if any) accepts connections, before any camera is pulled.
pub async fn run(
    path: &Path,
    cfg: Config,
    mut shutdown: watch::Receiver<bool>,
    listening: Option<tokio::sync::oneshot::Sender<()>>,
) -> anyhow::Result<Vec<StreamReport>> {
    use tokio::signal::unix::{SignalKind, signal};
    // From here SIGHUP reloads instead of ending the process.
    let mut hangup = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let text = tokio::fs::read_to_string(path).await.unwrap_or_default();
    let (_lock, footage) = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || open::open(&cfg)).await??
    };
    let store = footage.store().clone();
    let shared = Shared {
        footage: footage.clone(),
        store: store.clone(),
        segmenter: SegmenterConfig {
            segment_90k: clock::duration_90k(cfg.storage.segment_duration),
            fragment_90k: clock::duration_90k(cfg.storage.fragment_duration),
        },
        flush_interval: cfg.storage.flush_interval,
        notices: crate::motion::notices::channel(),
    };
    let (running, watching) = watch::channel(Arc::new(Running {
        cfg: cfg.clone(),
        health: Default::default(),
        live: Default::default(),
        recording_off: Default::default(),
        private: Default::default(),
    }));
    let (asks, mut asked) = tokio::sync::mpsc::channel(4);
    let (switch, mut switches) = tokio::sync::mpsc::channel(8);
    let (privacy, mut privacy_asks) = tokio::sync::mpsc::channel(8);
    // Audit entries as they commit: views announced for `notify_on_view`.
    let (told, _) = tokio::sync::broadcast::channel(256);
    let control = crate::web::state::ConfigControl {
        path: path.to_path_buf(),
        reload: asks,
        saving: tokio::sync::Mutex::new(()),
        recording: switch.clone(),
        privacy: privacy.clone(),
    };
    // The web server first: a port that is taken or a bad certificate stops the
    // start before any recording begins.
    let web = match &cfg.server {
        Some(server) => Some(
            start_web(
                &cfg,
                server,
                &shared,
                watching,
                control,
                told.clone(),
                shutdown.clone(),
            )
            .await?,
        ),
        None => None,
    };
    if let Some(tx) = listening {
        let _ = tx.send(());
    }
    let (recording_off, private, overrides) = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            Ok((
                store.recording_off()?,
                store.private_now()?,
                store.privacy_overrides()?,
            ))
        })
        .await??
    };
    let mut sup = Supervisor {
        path: path.to_path_buf(),
        text,
        cfg: cfg.clone(),
        audit: Arc::new(AuditLog::new(store.clone(), &cfg.storage.data_dir)),
        shared,
        pipelines: Vec::new(),
        running,
        reports: Vec::new(),
        recording_off,
        private,
        overrides,
        privacy_due: tokio::time::Instant::now(),
    };
    // Privacy first: a camera private now is never pulled, not even briefly.
    sup.settle_privacy().await;
    for cam in &cfg.cameras {
        if let Some(off) = sup.recording_off.get(&cam.name) {
            tracing::info!(camera = %cam.name, "recording is switched off (by {})", off.by);
        }
        if sup.is_private(&cam.name) {
            tracing::info!(camera = %cam.name, "in privacy mode: not pulled");
            continue;
        }
        if sup.pipelines.iter().any(|p| p.camera() == cam.name) {
            continue;
        }
        let cam = sup.effective(cam);
        sup.pipelines
            .push(Pipeline::start(&cam, &sup.shared).await?);
    }
    sup.publish();
    let mqtt = cfg.mqtt.clone().map(|m| {
        let links = crate::alerts::mqtt::Links {
            running: sup.running.subscribe(),
            notices: sup.shared.notices.clone(),
            switch: switch.clone(),
            privacy: privacy.clone(),
            views: told.clone(),
            footage: footage.clone(),
        };
        crate::alerts::mqtt::spawn(m, links, shutdown.clone())
    });
    let alerts = crate::alerts::dispatch::spawn(
        sup.running.subscribe(),
        &sup.shared.notices,
        &told,
        footage.clone(),
        shutdown.clone(),
    );
    let status = status::spawn(
        status::socket_path(&cfg.storage.data_dir),
        sup.running.subscribe(),
        shutdown.clone(),
    )
    .map_err(|e| tracing::warn!("no status socket (hearth status will not answer): {e}"))
    .ok();
    let recording: usize = sup.pipelines.iter().map(Pipeline::recording).sum();
    tracing::info!(
        "recording {recording} streams into {}",
        cfg.storage.data_dir.display()
    );
    let sessions = cfg.server.as_ref().map(|s| (s.session_idle, s.session_max));
    let mut tick = tokio::time::interval(cfg.storage.retention_interval);
    let mut poll = tokio::time::interval(CONFIG_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => housekeeping(&sup.cfg, &store, sessions).await,
            _ = hangup.recv() => {
                let _ = sup.reload("SIGHUP", None).await;
            }
            _ = poll.tick() => {
                match tokio::fs::read_to_string(&sup.path).await {
                    Ok(text) if text != sup.text => {
                        let _ = sup.reload("the file changed", Some(text)).await;
                    }
                    _ => {}
                }
            }
            Some(ask) = asked.recv() => {
                let r = sup.reload("saved from the browser", Some(ask.text)).await;
                let _ = ask.reply.send(r);
            }
            Some(ask) = switches.recv() => {
                let r = sup.switch_recording(&ask.camera, ask.on, &ask.by).await;
                let _ = ask.reply.send(r);
            }
            Some(ask) = privacy_asks.recv() => {
                let r = sup.switch_privacy(&ask.target, ask.private, &ask.by).await;
                let _ = ask.reply.send(r);
            }
            _ = tokio::time::sleep_until(sup.privacy_due) => sup.settle_privacy().await,
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
    let all = std::mem::take(&mut sup.pipelines);
    sup.stop(all).await;
    if let Some(m) = mqtt {
        let _ = m.await;
    }
    let _ = alerts.await;
    if let Some(s) = status {
        let _ = s.await;
    }
    Ok(sup.reports)
}

/// Retention, the disk reserve, old exports and expired sessions (off the runtime).
async fn housekeeping(cfg: &Config, store: &Arc<Store>, sessions: Option<(Duration, Duration)>) {
    let (dir, store, policy) = (cfg.storage.data_dir.clone(), store.clone(), Policy::of(cfg));
    match tokio::task::spawn_blocking(move || {
        let r = retention::run_once(&dir, &store, &policy);
        crate::record::reserve::ensure(&dir);
        open::sweep_exports(&dir, &store);
        if let Some((idle, max)) = sessions {
            // Expired sessions no request will come back for.
            let now = chrono::Utc::now().timestamp_micros();
            let (idle, max) = (clock::duration_us(idle), clock::duration_us(max));
            if let Err(e) = store.purge_sessions(now - idle, now - max) {
                tracing::warn!("cannot remove expired sessions: {e}");
            }
        }
        r
    })
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!("retention failed: {e:#}"),
        Err(e) => tracing::error!("retention task failed: {e}"),
    }
}

/// What runs, and the config it runs by.
struct Supervisor {
    path: PathBuf,
    /// The file's text as last read, valid or not.
    text: String,
    cfg: Config,
    shared: Shared,
    /// One per camera, in the config's order.
    pipelines: Vec<Pipeline>,
    running: watch::Sender<Arc<Running>>,
    reports: Vec<StreamReport>,
    audit: Arc<AuditLog>,
    /// Cameras whose recording is switched off at run time.
    recording_off: BTreeMap<String, Off>,
    /// Cameras in privacy mode now: each one's open period.
    private: BTreeMap<String, crate::store::privacy::Period>,
    /// Privacy switched by hand, until each camera's schedule next changes.
    overrides: BTreeMap<String, crate::store::privacy::Override>,
    /// When privacy is next looked at.
    privacy_due: tokio::time::Instant,
}

impl Supervisor {
    /// Tells the web what runs now.
    fn publish(&self) {
        let mut health = crate::web::state::HealthMap::new();
        let mut live = crate::web::state::HubMap::new();
        for p in &self.pipelines {
            for (kind, h, hub) in p.streams() {
                health.insert((p.camera().to_owned(), kind), h.clone());
                live.insert((p.camera().to_owned(), kind), hub.clone());
            }
        }
        self.running.send_replace(Arc::new(Running {
            cfg: self.cfg.clone(),
            health,
            live,
            recording_off: self.recording_off.clone(),
            private: self.private_view(),
        }));
    }

    /// A camera as its pipeline runs it: recording nothing while switched off.
    fn effective(&self, cam: &Camera) -> Camera {
        let mut cam = cam.clone();
        if self.recording_off.contains_key(&cam.name) {
            cam.record = RecordMode::Off;
        }
        cam
    }

    /// Switches a camera's recording on or off as `by`: audited (nothing changes
    /// when the audit cannot be written), kept in the index, and the camera's
    /// pipeline started again the new way.
    async fn switch_recording(&mut self, camera: &str, on: bool, by: &str) -> Result<(), String> {
        let Some(cam) = self.cfg.camera(camera).cloned() else {
            return Err(format!("there is no camera {camera:?}"));
        };
        if self.recording_off.contains_key(camera) != on {
            return Ok(());
        }
        let record = Record {
            user: Some(by.to_owned()),
            action: (if on {
                action::RECORDING_ON
            } else {
                action::RECORDING_OFF
            })
            .to_owned(),
            camera: Some(camera.to_owned()),
            ..Record::default()
        };
        let (audit, store) = (self.audit.clone(), self.shared.store.clone());
        let (name, by_) = (camera.to_owned(), by.to_owned());
        let now = chrono::Utc::now().timestamp_micros();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            audit.append(record)?;
            store.set_recording(&name, on, &by_, now)?;
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("recording not switched: {e:#}"))?;
        if on {
            self.recording_off.remove(camera);
        } else {
            self.recording_off.insert(
                camera.to_owned(),
                Off {
                    since_us: now,
                    by: by.to_owned(),
                },
            );
        }
        tracing::info!(
            camera,
            "recording switched {} by {by}",
            if on { "on" } else { "off" }
        );
        // A private camera has no pipeline; it starts the new way when privacy ends.
        if let Some(i) = self.pipelines.iter().position(|p| p.camera() == camera) {
            let old = self.pipelines.remove(i);
            self.stop(vec![old]).await;
            match Pipeline::start(&self.effective(&cam), &self.shared).await {
                Ok(p) => self.pipelines.insert(i, p),
                Err(e) => tracing::error!(camera, "cannot start the camera: {e:#}"),
            }
        }
        self.publish();
        Ok(())
    }

    /// Stops pipelines together and keeps their counts.
    async fn stop(&mut self, pipelines: Vec<Pipeline>) {
        for p in &pipelines {
            p.signal_stop();
        }
        for p in pipelines {
            self.reports.extend(p.stop().await);
        }
    }

    /// Reads the config again (`text` when already read) and applies what
    /// changed. An invalid file changes nothing and says where it is wrong.
    async fn reload(&mut self, why: &str, text: Option<String>) -> Result<Diff, String> {
        let text = match text {
            Some(t) => t,
            None => match tokio::fs::read_to_string(&self.path).await {
                Ok(t) => t,
                Err(e) => {
                    let msg = format!("cannot read {}: {e}", self.path.display());
                    tracing::error!("config not reloaded ({why}): {msg}; the running config stays");
                    return Err(msg);
                }
            },
        };
        self.text = text.clone();
        let path = self.path.clone();
        // Parsing reads password files: off the runtime.
        let parsed = tokio::task::spawn_blocking(move || Config::parse(&text, &path)).await;
        let new = match parsed {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                tracing::error!("config not reloaded ({why}): {e}; the running config stays");
                return Err(e.to_string());
            }
            Err(e) => return Err(format!("config check failed: {e}")),
        };
        let d = config_diff::diff(&self.cfg, &new);
        for key in &d.needs_restart {
            tracing::warn!("config: {key} changed; it applies at the next start of Hearth");
        }
        let restart = |n: &str| d.removed.iter().chain(&d.changed).any(|c| c == n);
        let (stopping, mut kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pipelines)
            .into_iter()
            .partition(|p| restart(p.camera()));
        self.stop(stopping).await;
        self.cfg = d.effective.clone();
        for cam in &self.cfg.cameras {
            match kept.iter().position(|p| p.camera() == cam.name) {
                Some(i) => self.pipelines.push(kept.remove(i)),
                None if self.is_private(&cam.name) => {}
                None => match Pipeline::start(&self.effective(cam), &self.shared).await {
                    Ok(p) => self.pipelines.push(p),
                    Err(e) => tracing::error!(camera = %cam.name, "cannot start the camera: {e:#}"),
                },
            }
        }
        // A schedule or group that changed applies now.
        self.settle_privacy().await;
        self.publish();
        if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
            tracing::info!("config reloaded ({why}): no camera changed");
        } else {
            tracing::info!(
                "config reloaded ({why}): added [{}], removed [{}], restarted [{}]",
                d.added.join(", "),
                d.removed.join(", "),
                d.changed.join(", ")
            );
        }
        Ok(d)
    }
}

/// Binds the web server (so a taken port fails the start, not later), makes sure
/// an admin exists, and starts serving.
async fn start_web(
    cfg: &Config,
    server: &crate::config::Server,
    shared: &Shared,
    running: watch::Receiver<Arc<Running>>,
    control: crate::web::state::ConfigControl,
    told: crate::security::audit_log::Told,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let listener = std::net::TcpListener::bind(server.listen)
        .with_context(|| format!("cannot listen on {}", server.listen))?;
    let addr = listener.local_addr()?;
    let (tls_cfg, dir) = (server.tls.clone(), cfg.storage.data_dir.clone());
    let signing = {
        let dir = cfg.storage.data_dir.clone();
        tokio::task::spawn_blocking(move || crate::export_proof::SigningKey::load_or_create(&dir))
            .await??
    };
    let state = crate::web::AppState::new(
        running,
        Some(control),
        shared.footage.clone(),
        Arc::new(signing),
        shared.notices.clone(),
        Some(told),
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
