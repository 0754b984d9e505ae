//! Webhooks and pushes: one task hears every motion notice and turns it into
//! requests for the destinations the running config names (read at each
//! notice, so a reload applies at once). Every webhook that hears of a camera
//! gets its events' starts and ends; a push goes out when the camera's rules
//! say so (`rules.rs`). A picture goes along only for a camera whose owner let
//! pictures leave, each one audited where it went. Views of a camera with
//! `notify_on_view` (heard from the audit log as entries commit) go to the
//! same destinations.

use super::delivery::{Destination, Job};
use super::requests;
use super::rules::{PushRules, Verdict};
use crate::audit_record::{Record, action};
use crate::config::{Camera, Config};
use crate::egress::Reach;
use crate::footage::Footage;
use crate::motion::notices::{Notice, Notices, Phase};
use crate::security::audit_log::{AuditLog, Told};
use crate::view_receipts::Announcer;
use crate::web::state::Running;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Starts the dispatcher; it ends when `shutdown` is true.
pub fn spawn(
    running: watch::Receiver<Arc<Running>>,
    notices: &Notices,
    views: &Told,
    footage: Arc<Footage>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let mut rx = notices.subscribe();
    let mut views = views.subscribe();
    let audit = {
        let cfg = &running.borrow().cfg;
        Arc::new(AuditLog::new(
            footage.store().clone(),
            &cfg.storage.data_dir,
        ))
    };
    let mut d = Dispatcher {
        running,
        footage,
        audit,
        shutdown: shutdown.clone(),
        destinations: BTreeMap::new(),
        rules: PushRules::default(),
        pictures: BTreeMap::new(),
        announcer: Announcer::default(),
    };
    let mut shutdown = shutdown;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                n = rx.recv() => match n {
                    Ok(n) => d.notice(&n).await,
                    Err(broadcast::error::RecvError::Lagged(k)) => {
                        tracing::warn!("alerts: {k} motion notices missed (the dispatcher fell behind)");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                v = views.recv() => match v {
                    Ok(r) => d.viewed(&r),
                    Err(broadcast::error::RecvError::Lagged(k)) => {
                        tracing::warn!("alerts: {k} audit entries missed (views may go unannounced)");
                    }
                    Err(broadcast::error::RecvError::Closed) => {}
                },
                () = super::stopped(&mut shutdown) => return,
            }
        }
    })
}

struct Dispatcher {
    running: watch::Receiver<Arc<Running>>,
    /// Event snapshots, opened when sealed.
    footage: Arc<Footage>,
    audit: Arc<AuditLog>,
    shutdown: watch::Receiver<bool>,
    /// By URL: a destination keeps its queue across reloads.
    destinations: BTreeMap<String, Destination>,
    rules: PushRules,
    /// Each camera's running event's start picture, by event start.
    pictures: BTreeMap<String, (i64, Arc<Vec<u8>>)>,
    /// Which views of `notify_on_view` cameras are announced.
    announcer: Announcer,
}

fn hears(cameras: &Option<Vec<String>>, camera: &str) -> bool {
    cameras
        .as_ref()
        .is_none_or(|c| c.iter().any(|n| n == camera))
}

/// `scheme://host:port` of a URL: what logs and the audit may say of it.
fn place(u: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

impl Dispatcher {
    async fn notice(&mut self, n: &Notice) {
        let cfg: Config = self.running.borrow().cfg.clone();
        let Some(cam) = cfg.camera(&n.camera).cloned() else {
            return;
        };
        if n.phase == Phase::Started {
            match &n.picture {
                Some(p) => self
                    .pictures
                    .insert(n.camera.clone(), (n.start_us, p.clone())),
                None => self.pictures.remove(&n.camera),
            };
        }
        let zone = cfg.zone();
        let link = cfg
            .link_base
            .as_ref()
            .and_then(|b| requests::event_link(b, zone, &n.camera, n.start_us));
        let now = chrono::Utc::now().timestamp_micros();
        if n.phase != Phase::Updated {
            let hooks: Vec<_> = cfg
                .webhooks
                .iter()
                .filter(|w| hears(&w.cameras, &n.camera))
                .collect();
            let snapshot = if hooks.is_empty() || !cam.alerts.snapshots {
                None
            } else {
                self.snapshot(n).await
            };
            for w in hooks {
                let request = requests::webhook(w, n, link.as_ref(), snapshot.as_deref(), now);
                let to = format!("webhook {}", place(&w.url));
                let audit = snapshot.as_ref().map(|_| picture_record(&cam, n, &to));
                self.destination(&w.url, to, w.allow_internet)
                    .send(Job { request, audit });
            }
        }
        let pushes: Vec<_> = cfg
            .push
            .iter()
            .filter(|p| hears(&p.cameras, &n.camera))
            .collect();
        if pushes.is_empty() {
            return;
        }
        let minute = zone.minute_of_day(now);
        if self.rules.judge(n, &cam.alerts, now, minute) != Verdict::Push {
            return;
        }
        let alert = requests::alert(n, zone, link);
        let picture = self
            .pictures
            .get(&n.camera)
            .filter(|(start, _)| cam.alerts.snapshots && *start == n.start_us)
            .map(|(_, p)| p.clone());
        for p in pushes {
            let request = requests::push(p, &alert, picture.as_ref().map(|p| p.as_slice()));
            let to = format!("push {}", place(&p.url));
            // Gotify takes no picture.
            let carries = request.method == "PUT";
            let audit = carries.then(|| picture_record(&cam, n, &to));
            self.destination(&p.url, to, p.allow_internet)
                .send(Job { request, audit });
        }
    }

    /// An audit entry: a view of a camera with `notify_on_view` goes to every
    /// push and webhook that hears of the camera (no quiet hours, no
    /// cooldown: nobody watches unnoticed).
    fn viewed(&mut self, r: &Record) {
        let cfg: Config = self.running.borrow().cfg.clone();
        let Some(cam) = r.camera.as_deref().and_then(|c| cfg.camera(c)) else {
            return;
        };
        if !cam.notify_on_view {
            return;
        }
        let zone = cfg.zone();
        let Some(message) = self.announcer.announce(r, zone) else {
            return;
        };
        let now = chrono::Utc::now().timestamp_micros();
        let link = cfg
            .link_base
            .as_ref()
            .and_then(|b| b.join(&format!("views?camera={}", cam.name)).ok());
        let alert = requests::Alert {
            title: format!("Viewed: {}", cam.name),
            message: message.clone(),
            link,
        };
        for w in cfg.webhooks.iter().filter(|w| hears(&w.cameras, &cam.name)) {
            let request = requests::view_webhook(w, r, &message, now);
            let to = format!("webhook {}", place(&w.url));
            self.destination(&w.url, to, w.allow_internet).send(Job {
                request,
                audit: None,
            });
        }
        for p in cfg.push.iter().filter(|p| hears(&p.cameras, &cam.name)) {
            let request = requests::push(p, &alert, None);
            let to = format!("push {}", place(&p.url));
            self.destination(&p.url, to, p.allow_internet).send(Job {
                request,
                audit: None,
            });
        }
    }

    /// The stored event's snapshot, at its end.
    async fn snapshot(&self, n: &Notice) -> Option<Vec<u8>> {
        let (footage, camera, id) = (self.footage.clone(), n.camera.clone(), n.id?);
        match tokio::task::spawn_blocking(move || footage.event_picture(&camera, id, false)).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::warn!(camera = %n.camera, "alerts: cannot read the event's snapshot: {e}");
                None
            }
            Err(_) => None,
        }
    }

    fn destination(&mut self, url: &url::Url, name: String, allow_internet: bool) -> &Destination {
        let key = format!("{allow_internet} {url}");
        self.destinations.entry(key).or_insert_with(|| {
            Destination::spawn(
                name,
                Reach::from_allow_internet(allow_internet),
                self.audit.clone(),
                self.shutdown.clone(),
            )
        })
    }
}

/// The audit entry of a picture of `n` sent `to` a destination.
pub(super) fn picture_record(cam: &Camera, n: &Notice, to: &str) -> Record {
    Record {
        action: action::PICTURE_SENT.to_owned(),
        camera: Some(cam.name.clone()),
        from_us: Some(n.start_us),
        to_us: Some(n.end_us.max(n.start_us)),
        detail: Some(format!("to {to}")),
        ..Record::default()
    }
}
