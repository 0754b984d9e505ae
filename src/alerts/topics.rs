//! The MQTT topic layout and Home Assistant's discovery messages (pure).
//!
//! State lives under the topic prefix (`hearth/…`): `available` (online/offline,
//! the last will), and per camera `motion`, `zones/<zone>/motion` (ON/OFF),
//! `events` (JSON per start, update and end, no footage), `connected` (ON/OFF),
//! `health` (JSON), the switches `recording` and `privacy` (ON/OFF, asked at
//! `…/set`) and `viewed` (JSON per view, for `notify_on_view`); per privacy
//! group `groups/<group>/privacy` (and `/set`). Discovery configs are retained under
//! `<discovery_prefix>/<component>/<node>/<object>/config`, one Home Assistant
//! device per camera.

use crate::config::Command;
use crate::config::Mqtt;
use crate::motion::notices::{Notice, Phase};
use serde_json::{Value, json};

pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";
pub const ON: &str = "ON";
pub const OFF: &str = "OFF";

pub fn available(m: &Mqtt) -> String {
    format!("{}/available", m.topic_prefix)
}

pub fn motion(m: &Mqtt, camera: &str) -> String {
    format!("{}/{camera}/motion", m.topic_prefix)
}

pub fn zone_motion(m: &Mqtt, camera: &str, zone: &str) -> String {
    format!("{}/{camera}/zones/{zone}/motion", m.topic_prefix)
}

pub fn events(m: &Mqtt, camera: &str) -> String {
    format!("{}/{camera}/events", m.topic_prefix)
}

pub fn connected(m: &Mqtt, camera: &str) -> String {
    format!("{}/{camera}/connected", m.topic_prefix)
}

pub fn health(m: &Mqtt, camera: &str) -> String {
    format!("{}/{camera}/health", m.topic_prefix)
}

/// A camera's switch state (ON/OFF: `recording`, `privacy`), and where a
/// switch of it is asked.
pub fn switch_state(m: &Mqtt, camera: &str, c: Command) -> String {
    format!("{}/{camera}/{}", m.topic_prefix, c.as_str())
}

pub fn switch_set(m: &Mqtt, camera: &str, c: Command) -> String {
    format!("{}/{camera}/{}/set", m.topic_prefix, c.as_str())
}

/// Every camera's switches, to subscribe to.
pub fn switch_set_filter(m: &Mqtt) -> String {
    format!("{}/+/+/set", m.topic_prefix)
}

/// The camera and switch `topic` asks of, if it is one.
pub fn switch_set_camera<'t>(m: &Mqtt, topic: &'t str) -> Option<(&'t str, Command)> {
    let rest = topic.strip_prefix(&m.topic_prefix)?.strip_prefix('/')?;
    let rest = rest.strip_suffix("/set")?;
    let (cam, what) = rest.split_once('/')?;
    let c = [Command::Recording, Command::Privacy]
        .into_iter()
        .find(|c| c.as_str() == what)?;
    (!cam.is_empty() && !cam.contains('/')).then_some((cam, c))
}

/// A privacy group's state (ON while every camera in it is private) and switch.
pub fn group_privacy(m: &Mqtt, group: &str) -> String {
    format!("{}/groups/{group}/privacy", m.topic_prefix)
}

pub fn group_privacy_set(m: &Mqtt, group: &str) -> String {
    format!("{}/groups/{group}/privacy/set", m.topic_prefix)
}

pub fn group_privacy_set_filter(m: &Mqtt) -> String {
    format!("{}/groups/+/privacy/set", m.topic_prefix)
}

/// The group whose privacy switch `topic` is, if it is one.
pub fn group_privacy_set_group<'t>(m: &Mqtt, topic: &'t str) -> Option<&'t str> {
    let rest = topic
        .strip_prefix(&m.topic_prefix)?
        .strip_prefix("/groups/")?;
    let g = rest.strip_suffix("/privacy/set")?;
    (!g.is_empty() && !g.contains('/')).then_some(g)
}

/// Each view of a camera with `notify_on_view` (JSON, not retained).
pub fn viewed(m: &Mqtt, camera: &str) -> String {
    format!("{}/{camera}/viewed", m.topic_prefix)
}

/// A view as MQTT and webhooks say it: who, what, the range, in words too.
pub fn view_json(r: &crate::audit_record::Record, message: &str) -> Value {
    json!({
        "event_type": "view",
        "camera": r.camera,
        "user": r.user,
        "action": r.action,
        "message": message,
        "from": r.from_us.map(rfc3339),
        "to": r.to_us.map(rfc3339),
        "at": rfc3339(r.time_us),
    })
}

/// The last event's snapshot (JPEG bytes), for a camera that lets pictures leave.
pub fn snapshot(m: &Mqtt, camera: &str) -> String {
    format!("{}/{camera}/snapshot", m.topic_prefix)
}

/// Where Home Assistant says it (re)started.
pub fn ha_status(m: &Mqtt) -> String {
    format!("{}/status", m.discovery_prefix)
}

/// An event notice as the events topic carries it; `event_type` is what Home
/// Assistant's `event` entity keys on.
pub fn event_json(n: &Notice) -> Value {
    let kind = match n.phase {
        Phase::Started => "motion_start",
        Phase::Updated => "motion_update",
        Phase::Ended => "motion_end",
    };
    json!({
        "event_type": kind,
        "camera": n.camera,
        "id": n.id,
        "start": rfc3339(n.start_us),
        "end": (n.phase == Phase::Ended).then(|| rfc3339(n.end_us)),
        "peak": (f64::from(n.peak) * 1000.0).round() / 1000.0,
        "zones": n.zones,
    })
}

pub fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One discovery message: its topic and payload.
pub struct Discovery {
    pub topic: String,
    pub payload: Value,
}

fn node(m: &Mqtt, camera: &str) -> String {
    format!("{}_{camera}", m.topic_prefix)
}

/// Entities a camera has only when its owner allows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// A switch of its recording (MQTT commands allowed).
    pub recording_switch: bool,
    /// A switch of its privacy mode (MQTT commands allowed).
    pub privacy_switch: bool,
    /// A camera entity showing the last event's snapshot (pictures may leave).
    pub snapshot: bool,
}

/// The discovery messages of one camera with `zones`: a motion binary sensor
/// for the camera and for each zone, an event entity, a connectivity binary
/// sensor and frame-rate and bit-rate sensors, and the `extras` allowed.
pub fn discovery(m: &Mqtt, camera: &str, zones: &[String], extras: Extras) -> Vec<Discovery> {
    let node = node(m, camera);
    let device = json!({
        "identifiers": [node],
        "name": camera,
        "manufacturer": "Hearth",
        "model": "Camera recorded by Hearth",
        "sw_version": env!("CARGO_PKG_VERSION"),
    });
    let common = |object: &str, name: &str| {
        json!({
            "name": name,
            "unique_id": format!("{node}_{object}"),
            "object_id": format!("{node}_{object}"),
            "device": device,
            "availability": [{"topic": available(m)}],
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "origin": {"name": "Hearth", "sw_version": env!("CARGO_PKG_VERSION")},
        })
    };
    let with = |mut base: Value, extra: Value| {
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        base
    };
    let topic = |component: &str, object: &str| {
        format!("{}/{component}/{node}/{object}/config", m.discovery_prefix)
    };
    let mut out = Vec::new();
    if m.publish.motion {
        out.push(Discovery {
            topic: topic("binary_sensor", "motion"),
            payload: with(
                common("motion", "Motion"),
                json!({"state_topic": motion(m, camera), "device_class": "motion",
                       "payload_on": ON, "payload_off": OFF}),
            ),
        });
        for z in zones {
            let object = format!("motion_{z}");
            out.push(Discovery {
                topic: topic("binary_sensor", &object),
                payload: with(
                    common(&object, &format!("Motion in {z}")),
                    json!({"state_topic": zone_motion(m, camera, z), "device_class": "motion",
                           "payload_on": ON, "payload_off": OFF}),
                ),
            });
        }
    }
    if m.publish.events {
        out.push(Discovery {
            topic: topic("event", "events"),
            payload: with(
                common("events", "Motion event"),
                json!({"state_topic": events(m, camera), "device_class": "motion",
                       "event_types": ["motion_start", "motion_update", "motion_end"]}),
            ),
        });
    }
    if m.publish.health {
        out.push(Discovery {
            topic: topic("binary_sensor", "connected"),
            payload: with(
                common("connected", "Stream"),
                json!({"state_topic": connected(m, camera), "device_class": "connectivity",
                       "payload_on": ON, "payload_off": OFF, "entity_category": "diagnostic"}),
            ),
        });
        for (object, name, key, unit, class) in [
            ("fps", "Frame rate", "fps", "fps", None),
            (
                "bitrate",
                "Bit rate",
                "bitrate_kbps",
                "kbit/s",
                Some("data_rate"),
            ),
        ] {
            out.push(Discovery {
                topic: topic("sensor", object),
                payload: with(
                    common(object, name),
                    json!({"state_topic": health(m, camera),
                           "value_template": format!("{{{{ value_json.{key} }}}}"),
                           "unit_of_measurement": unit, "device_class": class,
                           "state_class": "measurement", "entity_category": "diagnostic"}),
                ),
            });
        }
    }
    for (on, c, name, icon) in [
        (
            extras.recording_switch,
            Command::Recording,
            "Recording",
            "mdi:record-rec",
        ),
        (
            extras.privacy_switch,
            Command::Privacy,
            "Privacy mode",
            "mdi:eye-off",
        ),
    ] {
        if !on {
            continue;
        }
        let object = c.as_str();
        out.push(Discovery {
            topic: topic("switch", object),
            payload: with(
                common(object, name),
                json!({"state_topic": switch_state(m, camera, c), "command_topic": switch_set(m, camera, c),
                       "payload_on": ON, "payload_off": OFF, "state_on": ON, "state_off": OFF,
                       "icon": icon}),
            ),
        });
    }
    if extras.snapshot {
        out.push(Discovery {
            topic: topic("camera", "snapshot"),
            payload: with(
                common("snapshot", "Last event"),
                json!({"topic": snapshot(m, camera)}),
            ),
        });
    }
    // No nulls: Home Assistant takes a null as a value.
    for d in &mut out {
        if let Some(o) = d.payload.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn mqtt() -> Mqtt {
        Config::parse(
            "[storage]\ndata_dir = \"d\"\n[mqtt]\nbroker = \"mqtt://127.0.0.1\"\n",
            std::path::Path::new("h.toml"),
        )
        .unwrap()
        .mqtt
        .unwrap()
    }

    #[test]
    fn a_camera_with_two_zones_is_one_device_of_home_assistant_entities() {
        let m = mqtt();
        let d = discovery(
            &m,
            "front",
            &["door".into(), "drive".into()],
            Extras::default(),
        );
        let topics: Vec<&str> = d.iter().map(|d| d.topic.as_str()).collect();
        assert_eq!(
            topics,
            [
                "homeassistant/binary_sensor/hearth_front/motion/config",
                "homeassistant/binary_sensor/hearth_front/motion_door/config",
                "homeassistant/binary_sensor/hearth_front/motion_drive/config",
                "homeassistant/event/hearth_front/events/config",
                "homeassistant/binary_sensor/hearth_front/connected/config",
                "homeassistant/sensor/hearth_front/fps/config",
                "homeassistant/sensor/hearth_front/bitrate/config",
            ]
        );
        let door = &d[1].payload;
        assert_eq!(door["unique_id"], "hearth_front_motion_door");
        assert_eq!(door["state_topic"], "hearth/front/zones/door/motion");
        assert_eq!(door["device"]["identifiers"][0], "hearth_front");
        assert_eq!(door["availability"][0]["topic"], "hearth/available");
        assert!(d[5].payload.get("device_class").is_none());
        assert_eq!(
            d[6].payload["value_template"],
            "{{ value_json.bitrate_kbps }}"
        );
    }

    #[test]
    fn the_switch_and_the_picture_only_when_allowed() {
        let m = mqtt();
        let all = Extras {
            recording_switch: true,
            privacy_switch: true,
            snapshot: true,
        };
        let d = discovery(&m, "front", &[], all);
        let sw = d
            .iter()
            .find(|d| d.topic == "homeassistant/switch/hearth_front/recording/config")
            .unwrap();
        assert_eq!(sw.payload["command_topic"], "hearth/front/recording/set");
        assert_eq!(sw.payload["state_topic"], "hearth/front/recording");
        let cam = d
            .iter()
            .find(|d| d.topic == "homeassistant/camera/hearth_front/snapshot/config")
            .unwrap();
        assert_eq!(cam.payload["topic"], "hearth/front/snapshot");
        let privacy = d
            .iter()
            .find(|d| d.topic == "homeassistant/switch/hearth_front/privacy/config")
            .unwrap();
        assert_eq!(privacy.payload["command_topic"], "hearth/front/privacy/set");
        assert_eq!(
            switch_set_camera(&m, "hearth/front/recording/set"),
            Some(("front", Command::Recording))
        );
        assert_eq!(
            switch_set_camera(&m, "hearth/front/privacy/set"),
            Some(("front", Command::Privacy))
        );
        assert_eq!(switch_set_camera(&m, "hearth/a/b/recording/set"), None);
        assert_eq!(switch_set_camera(&m, "hearth/front/motion/set"), None);
        assert_eq!(switch_set_camera(&m, "other/front/recording/set"), None);
        assert_eq!(
            group_privacy_set_group(&m, "hearth/groups/indoor/privacy/set"),
            Some("indoor")
        );
        assert_eq!(
            group_privacy_set_group(&m, "hearth/groups/a/b/privacy/set"),
            None
        );
    }

    #[test]
    fn an_event_says_its_kind_and_no_footage() {
        let n = Notice {
            camera: "front".into(),
            phase: Phase::Ended,
            id: Some(7),
            start_us: 1_700_000_000_000_000,
            end_us: 1_700_000_004_500_000,
            peak: 0.123_456,
            picture: None,
            zones: vec!["door".into()],
        };
        let j = event_json(&n);
        assert_eq!(j["event_type"], "motion_end");
        assert_eq!(j["start"], "2023-11-14T22:13:20.000Z");
        assert_eq!(j["end"], "2023-11-14T22:13:24.500Z");
        assert_eq!(j["peak"], 0.123);
    }
}
