//! MQTT and Home Assistant against Debian's mosquitto on loopback: discovery a
//! Home Assistant would take (topics, unique ids, device, availability, device
//! classes) for a camera with two zones, again when Home Assistant says it
//! started; motion ON then OFF around the simulated camera's motion periods and
//! events with their times; stream health; the last will saying offline when
//! Hearth is killed; recording switched from MQTT only where the config allows
//! it, audited as "mqtt", shown on the camera's page and switched back there by
//! an admin; event snapshots only from a camera that opts in.

mod common;

use common::http::Client;
use common::mqtt::{Broker, PASSWORD, USER};
use common::*;
use hearth::store::Store;
use std::time::Duration;

const ADMIN: (&str, &str) = ("boss", "boss-password-1");

#[test]
fn home_assistant_sees_the_camera_its_zones_and_its_motion() {
    let broker = Broker::start();
    let sub = broker.subscribe();
    let pw = broker.dir.path().join("hearth-mqtt.password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).expect("password file");
    let port = free_port();
    let _cam = fake_camera(port, None);
    let extra = format!(
        "sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord_sub = true\n\
         [[cameras.motion.zones]]\nname = \"left\"\npolygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]\n\
         [[cameras.motion.zones]]\nname = \"right\"\npolygon = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]\n"
    );
    let mut nvr = Nvr::new(
        &format!(
            "min_free = \"1MB\"\n[mqtt]\nbroker = \"mqtt://127.0.0.1:{}\"\nusername = \"{USER}\"\n\
             password_file = \"{}\"\n",
            broker.port,
            pw.display()
        ),
        &[Cam {
            name: "garden",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: &extra,
        }],
    );
    nvr.start();
    assert!(
        sub.wait_for(Duration::from_secs(30), "hearth/available", "online"),
        "never online: {}",
        nvr.log_text()
    );

    // Discovery: one device, seven entities, retained.
    let configs = |sub: &common::mqtt::Sub| -> Vec<common::mqtt::Seen> {
        sub.seen()
            .into_iter()
            .filter(|s| s.topic.starts_with("homeassistant/"))
            .collect()
    };
    assert!(wait_until(Duration::from_secs(10), || configs(&sub).len() >= 7));
    let got = configs(&sub);
    let mut topics: Vec<&str> = got.iter().map(|s| s.topic.as_str()).collect();
    topics.sort_unstable();
    assert_eq!(
        topics,
        [
            "homeassistant/binary_sensor/hearth_garden/connected/config",
            "homeassistant/binary_sensor/hearth_garden/motion/config",
            "homeassistant/binary_sensor/hearth_garden/motion_left/config",
            "homeassistant/binary_sensor/hearth_garden/motion_right/config",
            "homeassistant/event/hearth_garden/events/config",
            "homeassistant/sensor/hearth_garden/bitrate/config",
            "homeassistant/sensor/hearth_garden/fps/config",
        ]
    );
    let mut ids = Vec::new();
    for s in &got {
        let j: serde_json::Value = serde_json::from_str(&s.payload).expect("discovery JSON");
        ids.push(j["unique_id"].as_str().expect("unique_id").to_owned());
        assert_eq!(j["device"]["identifiers"][0], "hearth_garden", "{j}");
        assert_eq!(j["device"]["name"], "garden");
        assert_eq!(j["availability"][0]["topic"], "hearth/available");
        assert_eq!(j["payload_not_available"], "offline");
        let state = j["state_topic"].as_str().expect("state_topic");
        assert!(state.starts_with("hearth/garden/"), "{state}");
        if s.topic.contains("/motion") {
            assert_eq!(j["device_class"], "motion");
            assert_eq!(
                (&j["payload_on"], &j["payload_off"]),
                (&"ON".into(), &"OFF".into())
            );
        }
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 7, "unique ids are unique: {ids:?}");
    let zone = got
        .iter()
        .find(|s| s.topic.ends_with("/motion_left/config"))
        .expect("zone sensor");
    assert!(
        zone.payload
            .contains("\"state_topic\":\"hearth/garden/zones/left/motion\"")
    );

    // Two motion periods: ON then OFF each time, events with their times.
    assert!(
        wait_until(Duration::from_secs(70), || {
            sub.on("hearth/garden/events")
                .iter()
                .filter(|s| s.payload.contains("motion_end"))
                .count()
                >= 2
        }),
        "no two events ended: {:?}\n{}",
        sub.on("hearth/garden/events"),
        nvr.log_text()
    );
    let motion: Vec<String> = sub
        .on("hearth/garden/motion")
        .into_iter()
        .map(|s| s.payload)
        .collect();
    let changes: Vec<&str> = motion
        .iter()
        .map(String::as_str)
        .skip_while(|&p| p == "OFF")
        .collect();
    assert!(
        changes.starts_with(&["ON", "OFF", "ON", "OFF"]),
        "{motion:?}"
    );
    for z in ["left", "right"] {
        let zs: Vec<String> = sub
            .on(&format!("hearth/garden/zones/{z}/motion"))
            .into_iter()
            .map(|s| s.payload)
            .collect();
        assert!(
            zs.iter().any(|p| p == "ON") && zs.last().map(String::as_str) == Some("OFF"),
            "{z}: {zs:?}"
        );
    }
    assert!(sub.wait_for(Duration::from_secs(20), "hearth/garden/connected", "ON"));
    let health = sub.on("hearth/garden/health");
    let last: serde_json::Value =
        serde_json::from_str(&health.last().expect("health").payload).expect("health JSON");
    assert!(
        last["fps"].as_f64().is_some() && last["reconnects"].is_u64(),
        "{last}"
    );

    // Home Assistant restarts: discovery comes again.
    let before = configs(&sub).len();
    broker.publish("homeassistant/status", "online");
    assert!(wait_until(Duration::from_secs(10), || configs(&sub).len()
        >= before + 7));

    // Killed: the broker says offline for Hearth.
    nvr.kill9();
    assert!(sub.wait_for(Duration::from_secs(10), "hearth/available", "offline"));

    // The events' times are the camera's motion periods (12–20 s of each 20 s
    // loop from the sub stream's first frame), within a second.
    let t0 = nvr.first_frame_us("sub");
    let secs = |t: &serde_json::Value| {
        let t =
            chrono::DateTime::parse_from_rfc3339(t.as_str().expect("a time")).expect("RFC 3339");
        (t.timestamp_micros() - t0) as f64 / 1e6
    };
    let ended: Vec<(f64, f64, f64)> = sub
        .on("hearth/garden/events")
        .iter()
        .filter_map(|s| {
            let j: serde_json::Value = serde_json::from_str(&s.payload).ok()?;
            (j["event_type"] == "motion_end")
                .then(|| (secs(&j["start"]), secs(&j["end"]), s.at - t0 as f64 / 1e6))
        })
        .collect();
    for ((start, end, _), (want_start, want_end)) in ended.iter().zip([(12.0, 20.0), (32.0, 40.0)])
    {
        assert!(
            (start - want_start).abs() <= 1.0 && (end - want_end).abs() <= 1.0,
            "{ended:?}"
        );
    }
    let on_at: Vec<f64> = sub
        .on("hearth/garden/motion")
        .iter()
        .filter(|s| s.payload == "ON")
        .map(|s| s.at - t0 as f64 / 1e6)
        .collect();
    println!("motion ON arrived at {on_at:?} s (motion from 12 and 32 s); events ended {ended:?}");
}

/// A camera that allows the recording command is switched off and on again
/// from MQTT, each switch audited as done by "mqtt", and records nothing while
/// off; the same command to a camera that does not allow it is ignored. Only
/// the camera that lets pictures leave gets a snapshot entity and its events'
/// snapshots, each one audited.
#[test]
fn commands_act_only_where_allowed_and_pictures_leave_only_where_opted_in() {
    let broker = Broker::start();
    let sub = broker.subscribe();
    let port = free_port();
    let _cam = fake_camera(port, None);
    let allowing = "privacy_groups = [\"outside\"]\nnotify_on_view = true\n[cameras.alerts]\nsnapshots = true\nmqtt_commands = [\"recording\", \"privacy\"]\n";
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "min_free = \"1MB\"\nsegment_duration = \"2s\"\n{}\n[server]\nlisten = \"127.0.0.1:{web}\"\n",
            broker.hearth_section()
        ),
        &[
            Cam {
                name: "porch",
                url: format!("rtsp://127.0.0.1:{port}/main"),
                auth: None,
                extra: allowing,
            },
            Cam {
                name: "yard",
                url: format!("rtsp://127.0.0.1:{port}/main"),
                auth: None,
                extra: "",
            },
        ],
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.start();
    let mut admin = Client::new(&nvr.web_url());
    assert_eq!(admin.login(ADMIN.0, ADMIN.1).status, 200);
    for cam in ["porch", "yard"] {
        assert!(
            sub.wait_for(
                Duration::from_secs(30),
                &format!("hearth/{cam}/recording"),
                "ON"
            ),
            "{cam} never said it records: {}",
            nvr.log_text()
        );
    }
    let configs: Vec<String> = sub
        .seen()
        .into_iter()
        .filter(|s| s.topic.starts_with("homeassistant/") && !s.payload.is_empty())
        .map(|s| s.topic)
        .collect();
    for (topic, want) in [
        ("homeassistant/switch/hearth_porch/recording/config", true),
        ("homeassistant/camera/hearth_porch/snapshot/config", true),
        ("homeassistant/switch/hearth_porch/privacy/config", true),
        ("homeassistant/switch/hearth_yard/recording/config", false),
        ("homeassistant/switch/hearth_yard/privacy/config", false),
        ("homeassistant/camera/hearth_yard/snapshot/config", false),
    ] {
        assert_eq!(
            configs.iter().any(|t| t == topic),
            want,
            "{topic}: {configs:?}"
        );
    }
    let segments = |cam: &str| nvr.segments().iter().filter(|s| s.camera == cam).count();
    assert!(wait_until(Duration::from_secs(20), || segments("porch") >= 1));

    // Not allowed: ignored. Allowed: done, after the ignored one.
    broker.publish("hearth/yard/recording/set", "OFF");
    broker.publish("hearth/porch/recording/set", "OFF");
    assert!(
        sub.wait_for(Duration::from_secs(20), "hearth/porch/recording", "OFF"),
        "{}",
        nvr.log_text()
    );
    assert!(
        nvr.log_text()
            .contains("recording/set ignored: this camera does not take it")
    );
    assert!(
        !sub.on("hearth/yard/recording")
            .iter()
            .any(|s| s.payload == "OFF")
    );
    // While off, the porch records nothing and the yard goes on.
    let (porch, yard) = (segments("porch"), segments("yard"));
    assert!(wait_until(Duration::from_secs(30), || segments("yard") >= yard + 3));
    assert_eq!(
        segments("porch"),
        porch,
        "the porch recorded while switched off"
    );
    // The camera's page says so; an admin switches it on again there.
    let page = admin.get("/cameras/porch").text();
    assert!(
        page.contains("Recording is switched off since") && page.contains(" by mqtt."),
        "{page}"
    );
    assert!(page.contains("Switch recording on"));
    let nowhere = admin.post(
        "/api/admin/cameras/attic/recording",
        serde_json::json!({ "on": true }),
    );
    assert_eq!(nowhere.status, 404);
    let r = admin.post(
        "/api/admin/cameras/porch/recording",
        serde_json::json!({ "on": true }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(sub.wait_for(Duration::from_secs(20), "hearth/porch/recording", "ON"));
    assert!(
        !admin
            .get("/cameras/porch")
            .text()
            .contains("Recording is switched off")
    );
    assert!(
        wait_until(Duration::from_secs(30), || segments("porch") > porch),
        "recording never came back"
    );

    // The porch's event snapshot comes to the broker; the yard's never.
    assert!(
        wait_until(Duration::from_secs(70), || {
            sub.on("hearth/porch/snapshot")
                .iter()
                .any(|s| s.bytes.starts_with(&[0xff, 0xd8]))
        }),
        "no snapshot: {}",
        nvr.log_text()
    );
    // The yard had its event too, and sent no picture of it.
    assert!(wait_until(Duration::from_secs(40), || {
        sub.on("hearth/yard/events")
            .iter()
            .any(|s| s.payload.contains("motion_end"))
    }));
    assert!(sub.on("hearth/yard/snapshot").is_empty());

    // A view of a camera with notify_on_view is told; of another, not.
    assert_eq!(admin.get("/api/cameras/porch/live.jpg").status, 200);
    assert_eq!(admin.get("/api/cameras/yard/live.jpg").status, 200);
    assert!(
        wait_until(Duration::from_secs(20), || !sub
            .on("hearth/porch/viewed")
            .is_empty()),
        "{}",
        nvr.log_text()
    );
    let told = sub.on("hearth/porch/viewed");
    let view: serde_json::Value = serde_json::from_str(&told[0].payload).expect("view json");
    assert_eq!(view["user"], ADMIN.0);
    assert_eq!(
        view["message"],
        format!("{} saw live stills of porch", ADMIN.0)
    );
    assert!(sub.on("hearth/yard/viewed").is_empty());

    // Privacy from MQTT: only where allowed; a group's switch does its cameras.
    broker.publish("hearth/yard/privacy/set", "ON");
    broker.publish("hearth/porch/privacy/set", "ON");
    assert!(
        sub.wait_for(Duration::from_secs(20), "hearth/porch/privacy", "ON"),
        "{}",
        nvr.log_text()
    );
    assert!(sub.wait_for(
        Duration::from_secs(20),
        "hearth/groups/outside/privacy",
        "ON"
    ));
    assert!(admin.get("/api/cameras/porch/live.jpg").status == 409);
    assert!(
        !sub.on("hearth/yard/privacy")
            .iter()
            .any(|s| s.payload == "ON")
    );
    assert!(
        nvr.log_text()
            .contains("privacy/set ignored: this camera does not take it")
    );
    broker.publish("hearth/groups/outside/privacy/set", "OFF");
    assert!(
        wait_until(Duration::from_secs(20), || {
            sub.on("hearth/porch/privacy")
                .last()
                .is_some_and(|s| s.payload == "OFF")
        }),
        "{}",
        nvr.log_text()
    );
    nvr.stop();

    let store = Store::open(&nvr.data().join("hearth.db")).expect("index");
    let audit = store.audit_entries(None, 1000).expect("audit");
    let did = |action: &str, cam: &str| {
        audit
            .iter()
            .filter(|e| e.record.action == action && e.record.camera.as_deref() == Some(cam))
            .map(|e| e.record.user.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(did("recording_off", "porch"), ["mqtt"]);
    assert_eq!(did("recording_on", "porch"), [ADMIN.0]);
    assert!(did("recording_off", "yard").is_empty());
    assert_eq!(did("privacy_on", "porch"), ["mqtt"]);
    assert_eq!(did("privacy_off", "porch"), ["mqtt"]);
    assert!(did("privacy_on", "yard").is_empty());
    let pictures: Vec<_> = audit
        .iter()
        .filter(|e| e.record.action == "picture_sent")
        .map(|e| {
            (
                e.record.camera.clone().unwrap_or_default(),
                e.record.detail.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        !pictures.is_empty()
            && pictures
                .iter()
                .all(|(c, d)| c == "porch" && d.contains("MQTT broker")),
        "{pictures:?}"
    );
}
