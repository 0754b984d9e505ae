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
    let t0 = nvr.first_frame_us("sub");
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

/// Cameras whose clocks run 5 % slow and 2 % fast (their RTP time against real
/// time; 50 ppm is common, these are far past what slewing mends). Motion times and
/// recording times come from one clock model, so motion-only recording still
/// records every event with its pre-roll, segments never overlap, and events sit
/// where the motion really was (within the re-anchoring limit, not drifting
/// further with every minute).
#[test]
fn motion_mode_records_every_event_when_the_camera_clock_is_off() {
    let (slow, fast) = (free_port(), free_port());
    let _slow = fake_camera_with(slow, None, &["--clock", "0.95"]);
    let _fast = fake_camera_with(fast, None, &["--clock", "1.02"]);
    let extra = |port: u16| {
        format!(
            "sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord = \"motion\"\n\
             [cameras.motion]\npre_roll = \"3s\"\npost_roll = \"2s\""
        )
    };
    let (slow_extra, fast_extra) = (extra(slow), extra(fast));
    let mut nvr = Nvr::new(
        "min_free = \"1MB\"\nsegment_duration = \"4s\"",
        &[
            Cam {
                name: "slow",
                url: format!("rtsp://127.0.0.1:{slow}/main"),
                auth: None,
                extra: &slow_extra,
            },
            Cam {
                name: "fast",
                url: format!("rtsp://127.0.0.1:{fast}/main"),
                auth: None,
                extra: &fast_extra,
            },
        ],
    );
    let start_us = now_us();
    nvr.record_for(68);
    let store = Store::open(&nvr.data().join("hearth.db")).expect("index");
    let all = store.all_segments().expect("segments");
    // Every file whole (not check_segments: ffprobe takes the last frame's length
    // from the SPS frame rate, which these cameras' timestamps disagree with).
    for s in &all {
        let pk = ffprobe_packets(&nvr.data().join(&s.path));
        assert_eq!(pk.len() as u64, s.progress.frames, "{}", s.path);
        assert!(pk[0].key, "{}: starts with a key frame", s.path);
    }
    for camera in ["slow", "fast"] {
        let events = store.events_between(camera, 0, i64::MAX).expect("events");
        // Motion in the loop from 12 s to 20 s, from 32 s, from 52 s: three
        // events, each where the motion really was (the camera connects within
        // a second or two of the start).
        assert!(events.len() >= 3, "{camera}: {events:?}");
        for (i, e) in events[..3].iter().enumerate() {
            let at = (e.start_us - start_us) as f64 / 1e6;
            let want = 12.0 + 20.0 * i as f64;
            assert!(
                (want - 1.5..want + 4.0).contains(&at),
                "{camera}: event {i} at {at:.1} s, motion from {want} s"
            );
        }
        let mut segs: Vec<_> = all.iter().filter(|s| s.camera == camera).collect();
        segs.sort_by_key(|s| s.start_us);
        for w in segs.windows(2) {
            assert!(
                w[0].end_us() <= w[1].start_us,
                "{camera}: segments overlap by {} µs",
                w[0].end_us() - w[1].start_us
            );
        }
        let recorded = |t: i64| segs.iter().any(|s| s.start_us <= t && t < s.end_us());
        for e in &events[..3] {
            let first = segs
                .iter()
                .filter(|s| s.end_us() > e.start_us - 6_000_000 && s.start_us < e.end_us)
                .map(|s| s.start_us)
                .min();
            let first = first.unwrap_or_else(|| panic!("{camera}: no footage of {e:?}"));
            assert!(
                first <= e.start_us - 2_000_000,
                "{camera}: pre-roll {} s",
                (e.start_us - first) / 1_000_000
            );
            // After it too (past a re-anchoring's gap: a clock 5 % slow covers
            // only 95 % of the time with media time).
            assert!(
                (1..=4).any(|k| recorded(e.end_us + k * 500_000)),
                "{camera}: post-roll of {:?} in {:?}",
                (e.start_us - start_us, e.end_us - start_us),
                segs.iter()
                    .map(|s| (s.start_us - start_us, s.end_us() - start_us))
                    .collect::<Vec<_>>()
            );
        }
    }
    let log = nvr.log_text();
    assert!(log.contains("re-anchored on our clock"), "{log}");
}

/// Frames the motion thread misses mid-GOP (it fell behind; the hub says so with a
/// gap) must not turn into motion: the simulated camera's scene is decoded by the
/// real detector thread, with the two seconds around the key frame at 20 s (where
/// the shapes stop) missing. The one true event is the shapes' crossing at 12–20 s.
#[test]
fn frames_missed_mid_gop_make_no_motion_event() {
    use hearth::fakecam::scene::{SceneSpec, encode};
    use hearth::ingest::frame::{Frame, VideoParams};
    use hearth::ingest::hub::StreamEvent;
    use std::sync::Arc;

    let spec = SceneSpec::sub();
    let clip = encode(&spec).expect("encode the scene");
    let p = hearth::media::h264::avc_sample_entry(&clip.sps, &clip.pps).expect("sample entry");
    let params = Arc::new(VideoParams {
        codec: p.codec,
        width: p.width,
        height: p.height,
        sample_entry: p.sample_entry,
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("hearth.db")).expect("index"));
    let (tx, rx) = tokio::sync::mpsc::channel(1000);
    let detector = hearth::motion::live::spawn(
        "porch".into(),
        hearth::config::Motion::default(),
        Arc::new(hearth::footage::Footage::plain(dir.path(), store.clone())),
        Arc::default(),
        hearth::motion::notices::channel(),
        Arc::default(),
        rx,
    )
    .expect("motion thread");
    let t0 = now_us();
    let fps = i64::from(spec.fps);
    // 0–31 s: still, shapes crossing from 12 s, still again from 20 s.
    let (missed_from, missed_to) = (19 * fps, 21 * fps);
    for i in 0..31 * fps {
        if (missed_from..missed_to).contains(&i) {
            continue;
        }
        if i == missed_to {
            tx.blocking_send(StreamEvent::Gap {
                dropped: u64::try_from(missed_to - missed_from).expect("count"),
            })
            .expect("send");
        }
        let f = &clip.frames[usize::try_from(i).expect("index") % clip.frames.len()];
        let mut data = Vec::new();
        for nal in &f.nals {
            data.extend_from_slice(&u32::try_from(nal.len()).expect("len").to_be_bytes());
            data.extend_from_slice(nal);
        }
        let frame = Frame {
            session: 1,
            pts: i * 90_000 / fps,
            wall_us: t0 + i * 1_000_000 / fps,
            key: f.key,
            data: data.into(),
            params: params.clone(),
            audio: None,
        };
        tx.blocking_send(StreamEvent::Frame(Arc::new(frame)))
            .expect("send");
    }
    drop(tx);
    let stats = detector.join().expect("motion thread");
    let events: Vec<(f64, f64)> = store
        .events_between("porch", t0 - 1, t0 + 60_000_000)
        .expect("events")
        .iter()
        .map(|e| ((e.start_us - t0) as f64 / 1e6, (e.end_us - t0) as f64 / 1e6))
        .collect();
    assert!(stats.analysed > 100, "{stats:?}");
    assert_eq!(events.len(), 1, "events (s from the start): {events:?}");
    let (start, end) = events[0];
    // The last picture before the gap is at 18.9 s; nothing after it moves.
    assert!(
        (11.5..=13.5).contains(&start) && end <= 20.0,
        "event at {start}–{end} s"
    );
    println!("one event, {start:.1}–{end:.1} s, with 19–21 s missed");
}

/// `decoder = "auto"` (the default) uses the board's V4L2 decoder where one opens
/// and otherwise detects in software; `decoder = "hardware"` insists, says once
/// which camera and why it cannot, and records regardless. On a machine with no
/// V4L2 device (this one, CI) both fall-back paths are what runs.
#[test]
fn detection_decodes_in_hardware_where_it_can_and_auto_falls_back_to_software() {
    let has_v4l2 = std::fs::read_dir("/dev")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("video"))
        })
        .unwrap_or(false);
    if has_v4l2 {
        eprintln!("skipped: this machine has a /dev/video device, so the fall-back cannot be seen");
        return;
    }
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::new(
        "min_free = \"1MB\"",
        &[
            Cam {
                name: "auto",
                url: format!("rtsp://127.0.0.1:{port}/sub"),
                auth: None,
                extra: "",
            },
            Cam {
                name: "forced",
                url: format!("rtsp://127.0.0.1:{port}/sub"),
                auth: None,
                extra: "[cameras.motion]\ndecoder = \"hardware\"",
            },
        ],
    );
    nvr.start();
    let stream = |v: &serde_json::Value, cam: &str| {
        v["cameras"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == cam))
            .map(|c| c["streams"][0].clone())
            .unwrap_or_default()
    };
    assert!(
        wait_until(std::time::Duration::from_secs(30), || {
            stream(&nvr.status_json(), "auto")["analysed_pictures"]
                .as_u64()
                .unwrap_or(0)
                > 10
        }),
        "auto detects in software: {}",
        nvr.log_text()
    );
    sleep_s(3);
    let v = nvr.status_json();
    assert_eq!(stream(&v, "auto")["hardware_decoding"], false, "{v}");
    assert_eq!(stream(&v, "forced")["hardware_decoding"], false, "{v}");
    assert_eq!(stream(&v, "forced")["analysed_pictures"], 0, "{v}");
    nvr.stop();
    let log = nvr.log_text();
    let lines = |cam: &str, what: &str| {
        log.lines()
            .filter(|l| l.contains(&format!("camera={cam}")) && l.contains(what))
            .count()
    };
    assert_eq!(
        lines(
            "auto",
            "motion detection decodes in software: cannot open h264_v4l2m2m"
        ),
        1,
        "{log}"
    );
    assert_eq!(
        lines(
            "forced",
            "motion detection cannot decode: cannot open h264_v4l2m2m"
        ),
        1,
        "once, not at every key frame: {log}"
    );
    assert_eq!(lines("auto", "cannot decode"), 0, "{log}");
    // Detection's decoder has nothing to do with recording.
    let segs = nvr.segments();
    for cam in ["auto", "forced"] {
        assert!(
            segs.iter().any(|s| s.camera == cam),
            "{cam} records: {segs:?}"
        );
    }
}
