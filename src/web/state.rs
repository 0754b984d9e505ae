//! What every request handler can reach: the config, the index, the audit log,
//! stream health, the login rate limiter. Blocking work goes through [`AppState::blocking`].

use crate::config::{Config, StreamKind};
use crate::ingest::health::Health;
use crate::local_time::Zone;
use crate::security::audit_chain::Record;
use crate::security::audit_log::AuditLog;
use crate::security::ratelimit::Limiter;
use crate::security::refusals::Refusals;
use crate::store::Store;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Health of each (camera, stream).
pub type HealthMap = BTreeMap<(String, StreamKind), Arc<Health>>;
/// The hub of each (camera, stream) that runs, for live view.
pub type HubMap = BTreeMap<(String, StreamKind), Arc<crate::ingest::hub::Hub>>;

/// Failed logins allowed per address and per user name within the window.
pub const LOGIN_FAILURES: usize = 5;
pub const LOGIN_WINDOW_US: i64 = 15 * 60 * 1_000_000;
/// Password verifications at once; more wait their turn.
pub const VERIFICATIONS: usize = 2;

/// Live views one user may have open at once, and all users together.
pub const LIVE_PER_USER: usize = 16;
pub const LIVE_TOTAL: usize = 128;

/// What runs now: the config in effect and each running stream's health and
/// hub. The supervisor publishes a new one after each reload.
pub struct Running {
    pub cfg: Config,
    pub health: HealthMap,
    /// The hub each camera's live view watches.
    pub live: HubMap,
    /// Cameras whose recording is switched off at run time.
    pub recording_off: BTreeMap<String, crate::store::switches::Off>,
    /// Cameras in privacy mode: nothing is pulled from them.
    pub private: BTreeMap<String, Private>,
}

/// A camera in privacy mode: since when, by whom (a user's name, "schedule"
/// or "mqtt"), and when it ends by itself if it does.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Private {
    pub since_us: i64,
    pub by: String,
    pub until_us: Option<i64>,
}

/// Which cameras a privacy switch is for: one, or every camera of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivacyTarget {
    Camera(String),
    Group(String),
}

/// A request to the supervisor: privacy mode on or off for `target`, as `by`;
/// answers the cameras whose state changed, or why nothing did.
pub struct PrivacyAsk {
    pub target: PrivacyTarget,
    pub private: bool,
    pub by: String,
    pub reply: tokio::sync::oneshot::Sender<Result<Vec<String>, String>>,
}

pub type PrivacySwitch = tokio::sync::mpsc::Sender<PrivacyAsk>;

/// A request to the supervisor: switch a camera's recording on or off, as
/// `by` (a user's name, or "mqtt"); audited before it takes effect.
pub struct RecordingAsk {
    pub camera: String,
    pub on: bool,
    pub by: String,
    pub reply: tokio::sync::oneshot::Sender<Result<(), String>>,
}

pub type RecordingSwitch = tokio::sync::mpsc::Sender<RecordingAsk>;

/// A request to the supervisor: apply the config file's new text, and say
/// what changed or why nothing did.
pub struct ReloadAsk {
    pub text: String,
    pub reply: tokio::sync::oneshot::Sender<Result<crate::config_diff::Diff, String>>,
}

/// What the admin's pages ask of the supervisor: the config file they change and
/// its reload, and the recording switch.
pub struct ConfigControl {
    pub path: std::path::PathBuf,
    pub reload: tokio::sync::mpsc::Sender<ReloadAsk>,
    /// One save at a time.
    pub saving: tokio::sync::Mutex<()>,
    /// Recording switched off and on at run time (not in the file).
    pub recording: RecordingSwitch,
    /// Privacy mode switched by hand.
    pub privacy: PrivacySwitch,
}

/// Asks the supervisor through `to` with the ask `make` builds around the
/// reply, and waits: its answer, or `None` when it is gone (Hearth is stopping).
pub async fn ask_supervisor<A, R>(
    to: &tokio::sync::mpsc::Sender<A>,
    make: impl FnOnce(tokio::sync::oneshot::Sender<Result<R, String>>) -> A,
) -> Option<Result<R, String>> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    to.send(make(reply)).await.ok()?;
    answer.await.ok()
}

/// [`ask_supervisor`] for a request: refused is an error, gone is "stopping".
pub async fn ask<A, R>(
    to: &tokio::sync::mpsc::Sender<A>,
    make: impl FnOnce(tokio::sync::oneshot::Sender<Result<R, String>>) -> A,
) -> Result<R, super::error::WebError> {
    use super::error::WebError;
    ask_supervisor(to, make)
        .await
        .ok_or_else(|| WebError::Unavailable("Hearth is stopping".into()))?
        .map_err(WebError::Internal)
}

/// A playback as the audit log sees it: (session, camera, from, to).
pub type PlaybackKey = (Vec<u8>, String, i64, i64);

pub struct Inner {
    /// What runs now; changes when the config is reloaded.
    pub running: tokio::sync::watch::Receiver<Arc<Running>>,
    /// The config file, when this server may change it.
    pub config: Option<ConfigControl>,
    /// The household's time zone: every time a page shows or takes.
    pub zone: Zone,
    pub store: Arc<Store>,
    /// Footage files, plain or sealed, opened through one place.
    pub footage: Arc<crate::footage::Footage>,
    /// Signs export bundles; its public half is on the System page.
    pub signing: Arc<crate::export_proof::SigningKey>,
    pub audit: AuditLog,
    /// Motion events as they happen, for the events stream.
    pub notices: crate::motion::notices::Notices,
    /// The latest live still of each (camera, stream): the key frame's time and its JPEG.
    pub stills: Mutex<HashMap<(String, StreamKind), (i64, bytes::Bytes)>>,
    /// Stills of recorded moments, for scrubbing.
    pub recorded_stills: super::recorded_still::Kept,
    /// Exports being written.
    pub exports: super::exports::Jobs,
    pub limiter: Mutex<Limiter>,
    /// Refused logins waiting to be summed up in the audit log.
    pub refusals: Mutex<Refusals>,
    /// Password verifications running at once (each costs argon2's 19 MiB).
    pub verifications: tokio::sync::Semaphore,
    /// Camera connection tests and motion previews running at once.
    pub camera_tests: tokio::sync::Semaphore,
    /// The ONVIF devices the last search found.
    pub onvif_found: Mutex<Vec<crate::onvif::discover::Device>>,
    /// Playbacks already audited, and when.
    pub audited: Mutex<HashMap<PlaybackKey, i64>>,
    /// Playback plans reused across a player's Range requests.
    pub plans: super::plan_cache::PlanCache,
    pub tls: bool,
    /// The audit log's verification at start-up: when, and the entries or what is wrong.
    pub audit_check: Mutex<Option<(i64, Result<usize, String>)>>,
    /// When this server started, and the last look at its CPU time (when,
    /// ticks, the % it gave), for the system page.
    pub started: std::time::Instant,
    pub cpu_sample: Mutex<Option<(std::time::Instant, u64, f64)>>,
    /// Live views open, per user and in all.
    pub live_viewers: Arc<Mutex<super::conn_limit::Book>>,
    /// Live views over HLS: a feed per camera stream being watched so.
    pub hls: super::hls::Feeds,
    /// Logins refused so far (wrong credentials or rate limited), for `/metrics`.
    pub logins_refused: std::sync::atomic::AtomicU64,
}

impl Inner {
    /// What runs now (a snapshot: a reload publishes a new one).
    pub fn running(&self) -> Arc<Running> {
        self.running.borrow().clone()
    }

    /// A camera's pre- and post-roll in µs: what plays around its events.
    pub fn rolls(&self, camera: &str) -> (i64, i64) {
        self.running()
            .cfg
            .camera(camera)
            .map_or((5_000_000, 10_000_000), |c| {
                (
                    crate::media::clock::duration_us(c.motion.pre_roll),
                    crate::media::clock::duration_us(c.motion.post_roll),
                )
            })
    }

    /// The supervisor's controls, for a change made at run time (`what`).
    pub fn control(&self, what: &str) -> Result<&ConfigControl, super::error::WebError> {
        self.config.as_ref().ok_or_else(|| {
            super::error::WebError::Unavailable(format!(
                "this server runs without a supervisor to {what}"
            ))
        })
    }

    /// Refuses what would show `camera` now while it is in privacy mode:
    /// nothing is pulled from it, so there is nothing to show.
    pub fn not_private(&self, camera: &str) -> Result<(), super::error::WebError> {
        match self.running().private.get(camera) {
            None => Ok(()),
            Some(p) => Err(super::error::WebError::Conflict(format!(
                "{camera} is private since {} (by {}): Hearth does not connect to it{}",
                self.zone.date_time(p.since_us),
                p.by,
                p.until_us.map_or(String::new(), |u| format!(
                    " until {}",
                    self.zone.date_time(u)
                )),
            ))),
        }
    }

    /// The hub of a camera's live `stream`; without one asked, the sub stream
    /// when it runs (lighter to send and decode), else the main.
    pub fn live_hub(
        &self,
        camera: &str,
        stream: Option<StreamKind>,
    ) -> Option<(StreamKind, Arc<crate::ingest::hub::Hub>)> {
        let kinds = match stream {
            Some(k) => vec![k],
            None => vec![StreamKind::Sub, StreamKind::Main],
        };
        let running = self.running();
        kinds.into_iter().find_map(|k| {
            running
                .live
                .get(&(camera.to_owned(), k))
                .map(|h| (k, h.clone()))
        })
    }

    /// Account changes through the index and the audit log (blocking).
    pub fn accounts(&self) -> crate::security::accounts::Accounts<'_> {
        crate::security::accounts::Accounts {
            store: &self.store,
            audit: &self.audit,
            cameras: self
                .running()
                .cfg
                .cameras
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        }
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        running: tokio::sync::watch::Receiver<Arc<Running>>,
        config: Option<ConfigControl>,
        footage: Arc<crate::footage::Footage>,
        signing: Arc<crate::export_proof::SigningKey>,
        notices: crate::motion::notices::Notices,
        told: Option<crate::security::audit_log::Told>,
        tls: bool,
    ) -> AppState {
        let store = footage.store().clone();
        let (audit, zone) = {
            let cfg = &running.borrow().cfg;
            let zone = cfg.zone();
            let audit = AuditLog::new(store.clone(), &cfg.storage.data_dir);
            (
                match told {
                    Some(t) => audit.telling(t),
                    None => audit,
                },
                zone,
            )
        };
        AppState(Arc::new(Inner {
            zone,
            running,
            config,
            store,
            footage,
            signing,
            audit,
            stills: Mutex::new(HashMap::new()),
            recorded_stills: Default::default(),
            exports: Default::default(),
            notices,
            limiter: Mutex::new(Limiter::new(LOGIN_FAILURES, LOGIN_WINDOW_US)),
            refusals: Mutex::new(Refusals::new(LOGIN_WINDOW_US)),
            verifications: tokio::sync::Semaphore::new(VERIFICATIONS),
            camera_tests: tokio::sync::Semaphore::new(2),
            onvif_found: Mutex::new(Vec::new()),
            audited: Mutex::new(HashMap::new()),
            plans: Default::default(),
            tls,
            audit_check: Mutex::new(None),
            started: std::time::Instant::now(),
            cpu_sample: Mutex::new(None),
            live_viewers: Arc::new(Mutex::new(super::conn_limit::Book::new(
                LIVE_PER_USER,
                LIVE_TOTAL,
            ))),
            hls: Default::default(),
            logins_refused: Default::default(),
        }))
    }

    /// Runs blocking work (SQLite, files) off the async runtime.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, super::error::WebError> {
        let s = self.0.clone();
        tokio::task::spawn_blocking(move || f(&s))
            .await
            .map_err(|e| super::error::WebError::Internal(format!("task failed: {e}")))
    }

    /// Appends to the audit log; a failure to audit is an error for the request.
    /// As `audit`, answering where the entry went in the chain.
    pub async fn audit_entry(
        &self,
        r: Record,
    ) -> Result<crate::security::audit_log::Appended, super::error::WebError> {
        self.blocking(move |s| s.audit.append_entry(r))
            .await?
            .map_err(|e| super::error::WebError::Internal(format!("audit log: {e:#}")))
    }

    pub async fn audit(&self, r: Record) -> Result<(), super::error::WebError> {
        self.blocking(move |s| s.audit.append(r))
            .await?
            .map_err(|e| super::error::WebError::Internal(format!("audit log: {e:#}")))
    }
}
