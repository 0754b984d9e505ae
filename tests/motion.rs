//! Live motion detection end to end: the simulated camera's loop is 12 s still and
//! 8 s of shapes crossing; the events Hearth stores match those periods within 1 s.

mod common;

use common::*;
use hearth::store::Store;

#[test]
fn events_match_the_motion_periods_of_the_camera() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let extra = format!("sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord_sub = true");
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!("min_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""),
        &[Cam {
            name: "garden",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: &extra,
        }],
    );
    nvr.add_user("ann", "viewer", "garden", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    sleep_s(45);
    // Events and their pictures through the web, audited.
    let mut c = common::http::Client::new(&url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);
    let now = chrono::Utc::now();
    let q = format!(
        "from={}&to={}",
        (now - chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let list = c.get(&format!("/api/cameras/garden/events?{q}")).json();
    let first = list[0]["id"].as_i64().expect("an event");
    for pic in ["snapshot.jpg", "thumb.jpg"] {
        let r = c.get(&format!("/api/cameras/garden/events/{first}/{pic}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        assert_eq!(&r.body[..2], &[0xff, 0xd8], "a JPEG");
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join(pic);
        std::fs::write(&f, &r.body).expect("write");
        let probe = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=width",
                "-of",
                "csv=p=0",
            ])
            .arg(&f)
            .output()
            .expect("ffprobe");
        let width: u32 = String::from_utf8_lossy(&probe.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        assert_eq!(
            width,
            if pic == "thumb.jpg" { 192 } else { 640 },
            "{pic} decodes"
        );
    }
    let levels = c.get(&format!("/api/cameras/garden/activity?{q}")).json();
    assert!(
        levels
            .as_array()
            .is_some_and(|l| l.iter().any(|v| v[1].as_f64().unwrap_or(0.0) > 0.01)),
        "{levels}"
    );
    let page = c.get("/cameras/garden").text();
    assert!(page.contains("id=\"timeline\""));
    assert!(page.contains(&format!("/events/{first}/thumb.jpg")));
    nvr.stop();
    let (ok, out) = nvr.cli(&["audit", "list", "--user", "ann"]);
    assert!(ok && out.contains("snapshot\tgarden"), "{out}");
    let store = Store::open(&nvr.data().join("hearth.db")).expect("index");
    // The sub stream's first segment starts on the loop's first frame.
    let t0 = store
        .all_segments()
        .expect("segments")
        .iter()
        .filter(|s| s.stream == "sub")
        .map(|s| s.start_us)
        .min()
        .expect("sub recorded");
    let events = store.events_between("garden", 0, i64::MAX).expect("events");
    let secs = |us: i64| (us - t0) as f64 / 1e6;
    let got: Vec<(f64, f64)> = events
        .iter()
        .map(|e| (secs(e.start_us), secs(e.end_us)))
        .collect();
    // Motion from 12 s to 20 s of every 20 s loop: two whole periods in 45 s.
    let expected = [(12.0, 20.0), (32.0, 40.0)];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((s, e), (es, ee)) in got.iter().zip(expected) {
        assert!((s - es).abs() <= 1.0 && (e - ee).abs() <= 1.0, "{got:?}");
    }
    for e in &events {
        assert!(e.peak > 0.01 && e.bbox.is_some(), "{e:?}");
    }
    // Activity per second: high during motion, zero in the still parts.
    let act = store
        .activity_between("garden", t0 / 1_000_000, t0 / 1_000_000 + 45)
        .expect("activity");
    let level = |s: i64| {
        act.iter()
            .find(|(sec, _)| *sec == t0 / 1_000_000 + s)
            .map_or(0.0, |a| a.1)
    };
    assert!(level(15) > 0.01 && level(35) > 0.01);
    assert_eq!(level(5), 0.0);
    assert_eq!(level(25), 0.0);
    assert!(nvr.log_text().contains("2 events"), "{}", nvr.log_text());
}

#[test]
fn motion_mode_records_around_events_with_pre_roll_and_off_records_nothing() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let extra = format!(
        "sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord = \"motion\"\n\
         [cameras.motion]\npre_roll = \"3s\"\npost_roll = \"2s\""
    );
    // Beside it, a camera that records nothing: still analysed, with events.
    let off = format!("sub_url = \"rtsp://127.0.0.1:{port}/hall/sub\"\nrecord = \"off\"");
    let mut nvr = Nvr::new(
        "min_free = \"1MB\"\nsegment_duration = \"4s\"",
        &[
            Cam {
                name: "porch",
                url: format!("rtsp://127.0.0.1:{port}/main"),
                auth: None,
                extra: &extra,
            },
            Cam {
                name: "hall",
                url: format!("rtsp://127.0.0.1:{port}/hall/main"),
                auth: None,
                extra: &off,
            },
        ],
    );
    let start_us = now_us();
    let stop_us = nvr.record_for(45);
    let store = Store::open(&nvr.data().join("hearth.db")).expect("index");
    let events = store.events_between("porch", 0, i64::MAX).expect("events");
    assert!(events.len() >= 2, "{events:?}");
    let segs = store.all_segments().expect("segments");
    assert!(
        segs.iter().all(|s| s.camera == "porch"),
        "record = off recorded"
    );
    let hall = store.events_between("hall", 0, i64::MAX).expect("events");
    assert!(hall.len() >= 2, "record = off still detects: {hall:?}");
    check_segments(&nvr.data(), &segs);
    let recorded = |t: i64| segs.iter().any(|s| s.start_us <= t && t < s.end_us());
    for e in &events[..2] {
        // The pre-roll: footage from at least 2 s before the event (3 s asked,
        // less the detector's reaction), from a key frame.
        let first = segs
            .iter()
            .filter(|s| s.end_us() > e.start_us - 6_000_000 && s.start_us < e.end_us)
            .map(|s| s.start_us)
            .min()
            .expect("footage around the event");
        assert!(
            first <= e.start_us - 2_000_000,
            "pre-roll: {} s",
            (e.start_us - first) / 1_000_000
        );
        assert!(recorded(e.end_us + 1_000_000), "post-roll");
        // Nothing in the middle of the quiet time after it.
        assert!(!recorded(e.end_us + 6_000_000), "recorded while still");
    }
    let total: i64 = segs.iter().map(|s| s.end_us() - s.start_us).sum();
    assert!(
        total < (stop_us - start_us) * 3 / 4,
        "recorded {} of {} s",
        total / 1_000_000,
        (stop_us - start_us) / 1_000_000
    );
    let reports = stop_reports(&nvr.log_text(), "porch", "main");
    let r = reports.first().expect("report");
    assert_eq!(r.received, r.recorded + r.before_key + r.idle, "{r:?}");
}
