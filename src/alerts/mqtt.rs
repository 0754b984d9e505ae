//! The MQTT publisher: one task that keeps a connection to the broker (through
//! `egress`, resolved and checked again before each reconnect, with capped
//! backoff), announces Hearth with a retained `online` and an `offline` last
//! will, publishes Home Assistant discovery for every camera (again when Home
//! Assistant says it started, and when cameras come and go on a reload), and
//! turns motion notices and stream health into state and event messages.
//! Messages wait in a bounded [`Outbox`]; detection and recording never wait
//! for the broker.

use super::outbox::{Message, Outbox};
use super::{stopped, topics};
use crate::config::{Command, Config, Mqtt, StreamKind};
use crate::footage::Footage;
use crate::motion::notices::{Notice, Notices, Phase};
use crate::security::audit_log::AuditLog;
use crate::web::state::{
    PrivacyAsk, PrivacySwitch, PrivacyTarget, RecordingAsk, RecordingSwitch, Running,
    ask_supervisor,
};
use rumqttc::{AsyncClient, ClientError, Event, LastWill, Packet, QoS};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Messages kept while the broker is away.
const OUTBOX: usize = 1000;
/// Requests handed to the client at once.
const IN_FLIGHT: usize = 64;
/// How often stream health is published.
const HEALTH_EVERY: Duration = Duration::from_secs(10);
/// How long a clean stop waits to say `offline`.
const GOODBYE: Duration = Duration::from_secs(2);

/// What the publisher reaches besides the broker.
pub struct Links {
    pub running: watch::Receiver<Arc<Running>>,
    pub notices: Notices,
    /// Where an allowed `recording/set` goes.
    pub switch: RecordingSwitch,
    /// Where an allowed `privacy/set` goes.
    pub privacy: PrivacySwitch,
    /// Audit entries as they commit: views of `notify_on_view` cameras.
    pub views: crate::security::audit_log::Told,
    /// Event snapshots, for cameras that let pictures leave.
    pub footage: Arc<Footage>,
}

/// Starts the publisher; it ends, having said `offline`, when `shutdown` is true.
pub fn spawn(
    m: Mqtt,
    links: Links,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let notices = links.notices.subscribe();
    let views = links.views.subscribe();
    tokio::spawn(async move {
        Publisher::new(m, links).run(notices, views, shutdown).await;
    })
}

/// What is on (camera motion, and each zone's) per camera, to publish again on
/// each connection.
#[derive(Default)]
struct MotionNow {
    on: bool,
    zones: BTreeSet<String>,
}

struct Publisher {
    m: Mqtt,
    running: watch::Receiver<Arc<Running>>,
    switch: RecordingSwitch,
    privacy: PrivacySwitch,
    footage: Arc<Footage>,
    audit: Arc<AuditLog>,
    /// Messages made by side tasks (snapshots read and audited).
    side: (mpsc::Sender<Message>, Option<mpsc::Receiver<Message>>),
    /// Refused commands logged once: "camera command", or "group name".
    refused_told: BTreeSet<String>,
    outbox: Outbox,
    motion: BTreeMap<String, MotionNow>,
    /// Discovery topics announced, per camera, to withdraw when it goes.
    announced: BTreeMap<String, Vec<String>>,
    dropped_told: u64,
    /// Which views of `notify_on_view` cameras are announced.
    announcer: crate::view_receipts::Announcer,
}

impl Publisher {
    fn new(m: Mqtt, links: Links) -> Publisher {
        let audit = {
            let cfg = &links.running.borrow().cfg;
            Arc::new(AuditLog::new(
                links.footage.store().clone(),
                &cfg.storage.data_dir,
            ))
        };
        let (tx, rx) = mpsc::channel(16);
        Publisher {
            m,
            running: links.running,
            switch: links.switch,
            privacy: links.privacy,
            footage: links.footage,
            audit,
            side: (tx, Some(rx)),
            refused_told: BTreeSet::new(),
            outbox: Outbox::new(OUTBOX),
            motion: BTreeMap::new(),
            announced: BTreeMap::new(),
            dropped_told: 0,
            announcer: Default::default(),
        }
    }

    async fn run(
        mut self,
        mut notices: broadcast::Receiver<Notice>,
        mut views: broadcast::Receiver<crate::audit_record::Record>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let will = LastWill::new(
            topics::available(&self.m),
            topics::OFFLINE,
            QoS::AtLeastOnce,
            true,
        );
        let broker = format!("{}:{}", self.m.host, self.m.port);
        let mut backoff = MIN_BACKOFF;
        let mut last_error = String::new();
        let mut side = self.side.1.take().unwrap_or_else(|| mpsc::channel(1).1);
        let mut health = tokio::time::interval(HEALTH_EVERY);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let failed = match crate::egress::mqtt::options(&self.m, will.clone()).await {
                Err(e) => format!("{e:#}"),
                Ok(opts) => {
                    let (client, mut el) = AsyncClient::new(opts, IN_FLIGHT);
                    let mut connected = false;
                    loop {
                        tokio::select! {
                            ev = el.poll() => match ev {
                                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                                    connected = true;
                                    backoff = MIN_BACKOFF;
                                    last_error.clear();
                                    tracing::info!("MQTT: connected to the broker at {broker}");
                                    let _ = client.try_subscribe(topics::ha_status(&self.m), QoS::AtLeastOnce);
                                    let _ = client.try_subscribe(topics::switch_set_filter(&self.m), QoS::AtLeastOnce);
                                    let _ = client.try_subscribe(topics::group_privacy_set_filter(&self.m), QoS::AtLeastOnce);
                                    self.hello();
                                }
                                Ok(Event::Incoming(Packet::Publish(p))) => {
                                    if p.topic == topics::ha_status(&self.m) && &p.payload[..] == b"online" {
                                        tracing::info!("MQTT: Home Assistant started; discovery sent again");
                                        self.announce(true);
                                        self.states();
                                    } else if let Some(g) = topics::group_privacy_set_group(&self.m, &p.topic) {
                                        self.group_command(g.to_owned(), &p.payload);
                                    } else if let Some((cam, c)) = topics::switch_set_camera(&self.m, &p.topic) {
                                        self.command(cam.to_owned(), c, &p.payload);
                                    }
                                }
                                Ok(_) => {}
                                Err(e) => break e.to_string(),
                            },
                            n = notices.recv() => match n {
                                Ok(n) => self.notice(&n),
                                Err(broadcast::error::RecvError::Lagged(k)) => self.outbox.dropped += k,
                                Err(broadcast::error::RecvError::Closed) => {}
                            },
                            v = views.recv() => match v {
                                Ok(r) => self.viewed(&r),
                                Err(broadcast::error::RecvError::Lagged(k)) => self.outbox.dropped += k,
                                Err(broadcast::error::RecvError::Closed) => {}
                            },
                            _ = health.tick() => self.health(),
                            Some(msg) = side.recv() => self.outbox.push(msg),
                            Ok(()) = self.running.changed() => {
                                self.announce(false);
                                self.switch_states();
                            }
                            () = stopped(&mut shutdown) => {
                                if connected {
                                    goodbye(&self.m, &client, &mut el).await;
                                }
                                return;
                            }
                        }
                        if connected {
                            self.send(&client);
                        }
                    }
                }
            };
            if failed != last_error {
                tracing::warn!(
                    "MQTT: the broker at {broker}: {failed}; trying again in {}s (and on, quietly)",
                    backoff.as_secs()
                );
                last_error = failed;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                () = stopped(&mut shutdown) => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Hands queued messages to the client while it takes them.
    fn send(&mut self, client: &AsyncClient) {
        while let Some(msg) = self.outbox.pop() {
            // The client would fail the whole connection on it, again and again.
            if msg.payload.len() + msg.topic.len() + 16 > crate::egress::mqtt::MAX_OUTGOING {
                tracing::warn!(
                    "MQTT: a message to {} is too big to send; dropped",
                    msg.topic
                );
                self.outbox.dropped += 1;
                continue;
            }
            let qos = if msg.retain {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            };
            match client.try_publish(msg.topic.clone(), qos, msg.retain, msg.payload.clone()) {
                Ok(()) => {}
                Err(ClientError::TryRequest(_) | ClientError::Request(_)) => {
                    self.outbox.unpop(msg);
                    break;
                }
            }
        }
        if self.outbox.dropped > self.dropped_told {
            tracing::warn!(
                "MQTT: {} messages dropped so far while the broker was slow or away",
                self.outbox.dropped
            );
            self.dropped_told = self.outbox.dropped;
        }
    }

    /// A new connection: online, discovery, every current state.
    fn hello(&mut self) {
        self.outbox
            .push(Message::state(topics::available(&self.m), topics::ONLINE));
        self.announce(true);
        self.states();
        self.health();
    }

    fn cfg(&self) -> Config {
        self.running.borrow().cfg.clone()
    }

    /// Discovery for each camera (all of them when `all`, else only those new or
    /// changed since the last announcement); an emptied config withdraws a camera
    /// that went away.
    fn announce(&mut self, all: bool) {
        let cfg = self.cfg();
        let mut now = BTreeMap::new();
        for cam in &cfg.cameras {
            let zones: Vec<String> = cam
                .motion
                .detector
                .zones
                .iter()
                .map(|(n, _)| n.clone())
                .collect();
            let extras = topics::Extras {
                recording_switch: cam.alerts.mqtt_commands.contains(&Command::Recording),
                privacy_switch: cam.alerts.mqtt_commands.contains(&Command::Privacy),
                snapshot: cam.alerts.snapshots,
            };
            let d = if self.m.discovery {
                topics::discovery(&self.m, &cam.name, &zones, extras)
            } else {
                Vec::new()
            };
            let names: Vec<String> = d.iter().map(|d| d.topic.clone()).collect();
            if all || self.announced.get(&cam.name) != Some(&names) {
                for x in d {
                    self.outbox
                        .push(Message::state(x.topic, x.payload.to_string()));
                }
            }
            self.motion.entry(cam.name.clone()).or_default();
            now.insert(cam.name.clone(), names);
        }
        for (cam, old) in &self.announced {
            let kept = now.get(cam);
            for t in old.iter().filter(|t| kept.is_none_or(|k| !k.contains(t))) {
                self.outbox.push(Message::state(t.clone(), ""));
            }
        }
        self.motion.retain(|c, _| now.contains_key(c));
        self.announced = now;
    }

    /// Each camera's recording (on or switched off) and privacy mode, and each
    /// privacy group's (on while all its cameras are private).
    fn switch_states(&mut self) {
        let running = self.running.borrow().clone();
        let on = |b: bool| if b { topics::ON } else { topics::OFF };
        let mut groups: BTreeMap<&str, bool> = BTreeMap::new();
        for cam in &running.cfg.cameras {
            let private = running.private.contains_key(&cam.name);
            for (c, state) in [
                (
                    Command::Recording,
                    !running.recording_off.contains_key(&cam.name),
                ),
                (Command::Privacy, private),
            ] {
                self.outbox.push(Message::state(
                    topics::switch_state(&self.m, &cam.name, c),
                    on(state),
                ));
            }
            for g in &cam.privacy_groups {
                *groups.entry(g).or_insert(true) &= private;
            }
        }
        for (g, all) in groups {
            self.outbox
                .push(Message::state(topics::group_privacy(&self.m, g), on(all)));
        }
    }

    /// A camera's `recording/set` or `privacy/set`: passed to the supervisor
    /// when the camera's config allows it, else ignored (and said once).
    fn command(&mut self, camera: String, c: Command, payload: &[u8]) {
        let allowed = self
            .cfg()
            .camera(&camera)
            .is_some_and(|cam| cam.alerts.mqtt_commands.contains(&c));
        let what = c.as_str();
        let Some(on) = on_off(payload) else {
            tracing::warn!(camera, "MQTT: {what}/set takes ON or OFF; ignored");
            return;
        };
        if !allowed {
            if self.refused_told.insert(format!("{camera} {what}")) {
                tracing::warn!(
                    camera,
                    "MQTT: {what}/set ignored: this camera does not take it (allow it with \
                     mqtt_commands = [\"{what}\"] in its [cameras.alerts])"
                );
            }
            return;
        }
        match c {
            Command::Recording => {
                let switch = self.switch.clone();
                tokio::spawn(async move {
                    let asked = ask_supervisor(&switch, |reply| RecordingAsk {
                        camera: camera.clone(),
                        on,
                        by: "mqtt".to_owned(),
                        reply,
                    });
                    if let Some(Err(e)) = asked.await {
                        tracing::warn!(camera, "MQTT: recording/set not done: {e}");
                    }
                });
            }
            Command::Privacy => self.ask_privacy(PrivacyTarget::Camera(camera), on),
        }
    }

    /// A group's `privacy/set`: taken only when every camera in the group takes
    /// privacy commands.
    fn group_command(&mut self, group: String, payload: &[u8]) {
        let Some(on) = on_off(payload) else {
            tracing::warn!(group, "MQTT: privacy/set takes ON or OFF; ignored");
            return;
        };
        let cfg = self.cfg();
        let members: Vec<_> = cfg
            .cameras
            .iter()
            .filter(|c| c.privacy_groups.contains(&group))
            .collect();
        if let Some(c) = members
            .iter()
            .find(|c| !c.alerts.mqtt_commands.contains(&Command::Privacy))
        {
            if self.refused_told.insert(format!("group {group}")) {
                tracing::warn!(
                    group,
                    "MQTT: the group's privacy/set ignored: its camera {} does not take privacy \
                     commands (allow them with mqtt_commands = [\"privacy\"])",
                    c.name
                );
            }
            return;
        }
        self.ask_privacy(PrivacyTarget::Group(group), on);
    }

    fn ask_privacy(&self, target: PrivacyTarget, private: bool) {
        let privacy = self.privacy.clone();
        tokio::spawn(async move {
            let asked = ask_supervisor(&privacy, |reply| PrivacyAsk {
                target: target.clone(),
                private,
                by: "mqtt".to_owned(),
                reply,
            });
            if let Some(Err(e)) = asked.await {
                tracing::warn!("MQTT: privacy/set for {target:?} not done: {e}");
            }
        });
    }

    /// A view of a camera with `notify_on_view`: to `<camera>/viewed`.
    fn viewed(&mut self, r: &crate::audit_record::Record) {
        let cfg = self.cfg();
        let Some(cam) = r.camera.as_deref().and_then(|c| cfg.camera(c)) else {
            return;
        };
        if !cam.notify_on_view {
            return;
        }
        if let Some(message) = self.announcer.announce(r, cfg.zone()) {
            self.outbox.push(Message::happening(
                topics::viewed(&self.m, &cam.name),
                topics::view_json(r, &message).to_string(),
            ));
        }
    }

    /// The ended event's snapshot to the broker (retained, the camera entity's
    /// picture), read and audited off the runtime; not sent when the audit
    /// cannot be written.
    fn snapshot(&self, n: &Notice) {
        let Some(id) = n.id else {
            return;
        };
        let Some(cam) = self
            .cfg()
            .camera(&n.camera)
            .filter(|c| c.alerts.snapshots)
            .cloned()
        else {
            return;
        };
        let (footage, audit, tx) = (
            self.footage.clone(),
            self.audit.clone(),
            self.side.0.clone(),
        );
        let topic = topics::snapshot(&self.m, &cam.name);
        let to = format!(
            "MQTT broker {}://{}:{}",
            if self.m.tls { "mqtts" } else { "mqtt" },
            self.m.host,
            self.m.port
        );
        let record = super::dispatch::picture_record(&cam, n, &to);
        tokio::spawn(async move {
            let got = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Vec<u8>>> {
                let Some(jpeg) = footage.event_picture(&cam.name, id, false)? else {
                    return Ok(None);
                };
                audit.append(record)?;
                Ok(Some(jpeg))
            })
            .await;
            match got {
                Ok(Ok(Some(jpeg))) => {
                    let _ = tx.send(Message::state(topic, jpeg)).await;
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::error!("MQTT: the event's snapshot not sent: {e:#}"),
                Err(e) => tracing::error!("MQTT: the event's snapshot not sent: {e}"),
            }
        });
    }

    /// The motion state of every camera and zone as it is now.
    fn states(&mut self) {
        self.switch_states();
        if !self.m.publish.motion {
            return;
        }
        let cfg = self.cfg();
        for cam in &cfg.cameras {
            let now = self.motion.entry(cam.name.clone()).or_default();
            let on = |b: bool| if b { topics::ON } else { topics::OFF };
            let mut msgs = vec![Message::state(
                topics::motion(&self.m, &cam.name),
                on(now.on),
            )];
            for (z, _) in &cam.motion.detector.zones {
                msgs.push(Message::state(
                    topics::zone_motion(&self.m, &cam.name, z),
                    on(now.zones.contains(z)),
                ));
            }
            for msg in msgs {
                self.outbox.push(msg);
            }
        }
    }

    fn notice(&mut self, n: &Notice) {
        if n.phase == Phase::Ended {
            self.snapshot(n);
        }
        let m = &self.m;
        if m.publish.events {
            self.outbox.push(Message::happening(
                topics::events(m, &n.camera),
                topics::event_json(n).to_string(),
            ));
        }
        if !m.publish.motion {
            return;
        }
        let now = self.motion.entry(n.camera.clone()).or_default();
        let mut msgs = Vec::new();
        match n.phase {
            Phase::Started | Phase::Updated => {
                if !now.on {
                    now.on = true;
                    msgs.push(Message::state(topics::motion(m, &n.camera), topics::ON));
                }
                for z in &n.zones {
                    if now.zones.insert(z.clone()) {
                        msgs.push(Message::state(
                            topics::zone_motion(m, &n.camera, z),
                            topics::ON,
                        ));
                    }
                }
            }
            Phase::Ended => {
                now.on = false;
                msgs.push(Message::state(topics::motion(m, &n.camera), topics::OFF));
                for z in std::mem::take(&mut now.zones) {
                    msgs.push(Message::state(
                        topics::zone_motion(m, &n.camera, &z),
                        topics::OFF,
                    ));
                }
            }
        }
        for msg in msgs {
            self.outbox.push(msg);
        }
    }

    /// Each camera's main stream: connected or not, frame and bit rates.
    fn health(&mut self) {
        if !self.m.publish.health {
            return;
        }
        let running = self.running.borrow().clone();
        for cam in &running.cfg.cameras {
            let Some(h) = running.health.get(&(cam.name.clone(), StreamKind::Main)) else {
                continue;
            };
            let s = h.snapshot();
            let up = s.connected_since.is_some();
            self.outbox.push(Message::state(
                topics::connected(&self.m, &cam.name),
                if up { topics::ON } else { topics::OFF },
            ));
            let j = serde_json::json!({
                "connected": up,
                "fps": (s.fps * 10.0).round() / 10.0,
                "bitrate_kbps": (s.bitrate_bps / 1000.0).round(),
                "reconnects": s.reconnects,
                "last_error": s.last_error,
            });
            self.outbox.push(Message::state(
                topics::health(&self.m, &cam.name),
                j.to_string(),
            ));
        }
    }
}

/// A clean stop: `offline` said and the connection closed, within [`GOODBYE`].
async fn goodbye(m: &Mqtt, client: &AsyncClient, el: &mut rumqttc::EventLoop) {
    let said = async {
        let _ = client
            .publish(
                topics::available(m),
                QoS::AtLeastOnce,
                true,
                topics::OFFLINE,
            )
            .await;
        let _ = client.disconnect().await;
        while let Ok(ev) = el.poll().await {
            if matches!(ev, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(GOODBYE, said).await;
}

fn on_off(payload: &[u8]) -> Option<bool> {
    match payload {
        b"ON" => Some(true),
        b"OFF" => Some(false),
        _ => None,
    }
}
