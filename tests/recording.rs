//! End-to-end recording tests against real RTSP servers (Hearth's simulated camera
//! and GStreamer's gst-rtsp-server), real files checked with ffprobe and ffmpeg, and
//! the real SQLite index.

mod common;

use common::*;
use hearth::store::{SegmentRow, SegmentState};

const MIN_FREE: &str = "min_free = \"1MB\"\n";

fn stream<'a>(segs: &'a [SegmentRow], camera: &str, kind: &str) -> Vec<&'a SegmentRow> {
    segs.iter()
        .filter(|s| s.camera == camera && s.stream == kind)
        .collect()
}

/// The checks every clean recording must pass: the files agree with the index,
/// every received frame is recorded, segments of one session are contiguous, and
/// media time matches the camera's frame rate and the wall clock.
fn check_clean_recording(nvr: &Nvr, camera: &str, kind: &str, fps: f64, stop_us: i64) {
    let all = nvr.segments();
    let segs: Vec<SegmentRow> = stream(&all, camera, kind).into_iter().cloned().collect();
    assert!(
        segs.len() >= 3,
        "{camera}/{kind}: only {} segments",
        segs.len()
    );
    assert!(segs.iter().all(|s| s.state == SegmentState::Complete));
    let frames = check_segments(&nvr.data(), &segs);
    let reports = stop_reports(&nvr.log_text(), camera, kind);
    let r = reports.last().expect("a stop report");
    assert_eq!((r.failed, r.dropped), (0, 0));
    assert_eq!(r.received, r.recorded + r.before_key, "{r:?}");
    assert_eq!(frames, r.recorded, "index frames vs recorder");
    for w in segs.windows(2) {
        let gap = w[1].start_us - w[0].end_us();
        assert!(
            gap.abs() <= 1,
            "{camera}/{kind}: segments not contiguous ({gap} µs)"
        );
    }
    let media_s: f64 = segs
        .iter()
        .map(|s| s.progress.duration_90k as f64 / 90_000.0)
        .sum();
    let nominal_s = frames as f64 / fps;
    assert!(
        (media_s - nominal_s).abs() <= nominal_s * 0.01,
        "media {media_s} s vs {frames} frames at {fps} fps"
    );
    let wall_s = (stop_us - segs[0].start_us) as f64 / 1e6;
    // Within 1%, plus the one frame that may arrive between the last one recorded
    // and the signal.
    assert!(
        (media_s - wall_s).abs() <= wall_s * 0.01 + 1.0 / fps,
        "media {media_s} s vs wall {wall_s} s"
    );
}

#[test]
fn records_hearth_fake_camera_main_and_sub_with_digest_auth() {
    let port = free_port();
    let _cam = fake_camera(port, Some(("admin", "s3cret")));
    let extra = format!("sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord_sub = true");
    let mut nvr = Nvr::new(
        &format!("segment_duration = \"6s\"\n{MIN_FREE}"),
        &[Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: Some(("admin", "s3cret")),
            extra: &extra,
        }],
    );
    let stop_us = nvr.record_for(22);
    check_clean_recording(&nvr, "front", "main", 15.0, stop_us);
    check_clean_recording(&nvr, "front", "sub", 10.0, stop_us);
    let segs = nvr.segments();
    let main = stream(&segs, "front", "main");
    assert_eq!((main[0].width, main[0].height), (1280, 720));
    assert!(main[0].codec.starts_with("avc1."), "{}", main[0].codec);
    assert!(!nvr.log_text().contains("s3cret"), "password in the log");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
}

#[test]
fn records_gstreamer_rtsp_server_with_digest_auth() {
    let port = free_port();
    let _cam = gst_camera(port, Some(("viewer", "pa55word")), &[]);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"6s\"\n{MIN_FREE}"),
        "yard",
        format!("rtsp://127.0.0.1:{port}/main"),
        Some(("viewer", "pa55word")),
    );
    let stop_us = nvr.record_for(24);
    check_clean_recording(&nvr, "yard", "main", 15.0, stop_us);
    let segs = nvr.segments();
    assert_eq!((segs[0].width, segs[0].height), (640, 360));
    for s in &segs {
        assert_decodes(&nvr.data().join(&s.path));
    }
}

/// Records a GStreamer camera and checks the files; returns the index rows.
fn record_gst(args: &[&str], camera_extra: &str, secs: u64) -> (Nvr, Vec<SegmentRow>) {
    let port = free_port();
    let _cam = gst_camera(port, None, args);
    let mut nvr = Nvr::new(
        &format!("segment_duration = \"4s\"\n{MIN_FREE}"),
        &[Cam {
            name: "cam",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: camera_extra,
        }],
    );
    let stop_us = nvr.record_for(secs);
    check_clean_recording(&nvr, "cam", "main", 15.0, stop_us);
    let segs = nvr.segments();
    for s in &segs {
        assert_decodes(&nvr.data().join(&s.path));
    }
    (nvr, segs)
}

#[test]
fn fake_camera_replays_a_file_in_a_loop_with_continuous_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = dir.path().join("clip.mp4");
    testsrc_clip(
        &clip,
        "320x240",
        10,
        4,
        &["-g", "10", "-bf", "0", "-pix_fmt", "yuv420p"],
    );
    let port = free_port();
    let _cam = fake_camera_with(port, None, &["--file", clip.to_str().expect("path")]);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"3s\"\n{MIN_FREE}"),
        "file",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    let stop_us = nvr.record_for(13);
    // Three passes through a 4 s clip, recorded as one unbroken run.
    check_clean_recording(&nvr, "file", "main", 10.0, stop_us);
    let segs = nvr.segments();
    assert_eq!((segs[0].width, segs[0].height), (320, 240));
    for s in &segs {
        assert_decodes(&nvr.data().join(&s.path));
    }
}

#[test]
fn records_h265() {
    let (nvr, segs) = record_gst(&["--codec", "h265"], "", 16);
    assert!(segs[0].codec.starts_with("hvc1"), "{}", segs[0].codec);
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
        ])
        .arg(nvr.data().join(&segs[0].path))
        .output()
        .expect("ffprobe");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hevc");
}

/// (codec, duration) of each stream of a file.
fn streams_of(path: &std::path::Path) -> Vec<(String, f64)> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (c, d) = l.split_once(',')?;
            Some((c.to_owned(), d.parse().unwrap_or(0.0)))
        })
        .collect()
}

#[test]
fn records_aac_audio_as_a_second_track() {
    let (nvr, segs) = record_gst(&["--audio"], "audio = true", 16);
    for s in &segs {
        let st = streams_of(&nvr.data().join(&s.path));
        assert_eq!(st.len(), 2, "{}: {st:?}", s.path);
        assert_eq!(st[1].0, "aac");
        // Audio covers the video, to within a couple of AAC frames.
        assert!((st[0].1 - st[1].1).abs() < 0.2, "{}: {st:?}", s.path);
    }
    // An export of the whole recording keeps the audio.
    let out = nvr.export(
        "cam",
        segs[0].start_us,
        segs.last().expect("segments").end_us(),
    );
    let st = streams_of(&out);
    assert_eq!(
        st.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["h264", "aac"]
    );
    assert!((st[0].1 - st[1].1).abs() < 0.2, "{st:?}");
    assert_decodes(&out);
}

#[test]
fn records_over_udp() {
    let (nvr, _) = record_gst(&[], "transport = \"udp\"", 14);
    assert!(
        !nvr.log_text().contains("stream failed"),
        "{}",
        nvr.log_text()
    );
}

#[test]
fn records_a_camera_that_demands_basic_auth() {
    let port = free_port();
    let _cam = fake_camera_with(port, Some(("admin", "b4sic")), &["--auth", "basic"]);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"2s\"\n{MIN_FREE}"),
        "basic",
        format!("rtsp://127.0.0.1:{port}/sub"),
        Some(("admin", "b4sic")),
    );
    let stop_us = nvr.record_for(10);
    check_clean_recording(&nvr, "basic", "main", 10.0, stop_us);
    assert!(!nvr.log_text().contains("b4sic"), "password in the log");
}

#[test]
fn wrong_password_is_reported_without_the_password() {
    let port = free_port();
    let _cam = fake_camera(port, Some(("admin", "right")));
    let mut nvr = Nvr::one(
        MIN_FREE,
        "door",
        format!("rtsp://127.0.0.1:{port}/main"),
        Some(("admin", "wr0ngpass")),
    );
    nvr.start();
    assert!(wait_until(std::time::Duration::from_secs(30), || {
        nvr.log_text().contains("stream failed")
    }));
    nvr.stop();
    let log = nvr.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("stream failed"))
        .unwrap_or_default();
    assert!(line.contains("camera=door"), "{line}");
    assert!(
        line.contains("401") || line.to_lowercase().contains("unauthorized"),
        "{line}"
    );
    assert!(!log.contains("wr0ngpass"), "password in the log");
    assert!(nvr.segments().is_empty());
}

#[test]
fn clean_stop_loses_nothing_every_time() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"4s\"\nflush_interval = \"10s\"\n{MIN_FREE}"),
        "hall",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    // A long flush interval: only the clean stop itself can put the last frames
    // on disk and in the index.
    let mut total_recorded = 0;
    for (i, secs) in [3u64, 5, 4, 6].into_iter().enumerate() {
        nvr.start();
        sleep_s(secs);
        nvr.stop();
        let reports = stop_reports(&nvr.log_text(), "hall", "main");
        assert_eq!(reports.len(), i + 1);
        let r = reports[i];
        assert!(r.recorded > 0, "run {i}: nothing recorded");
        assert_eq!(r.received, r.recorded + r.before_key, "run {i}: {r:?}");
        total_recorded += r.recorded;
        let segs = nvr.segments();
        assert!(segs.iter().all(|s| s.state == SegmentState::Complete));
        let indexed = check_segments(&nvr.data(), &segs);
        assert_eq!(indexed, total_recorded, "run {i}: index vs frames received");
    }
}

#[test]
fn camera_restart_resumes_by_itself_and_leaves_a_gap() {
    let port = free_port();
    let mut cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"4s\"\n{MIN_FREE}"),
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.start();
    sleep_s(8);
    cam.kill9();
    let down_us = now_us();
    sleep_s(4);
    let _cam2 = fake_camera(port, None);
    let up_us = now_us();
    assert!(
        wait_until(std::time::Duration::from_secs(60), || {
            nvr.log_text().matches("connected").count() >= 2
        }),
        "never reconnected: {}",
        nvr.log_text()
    );
    sleep_s(8);
    nvr.stop();
    let segs = nvr.segments();
    check_segments(&nvr.data(), &segs);
    let before: Vec<_> = segs
        .iter()
        .filter(|s| s.end_us() <= down_us + 500_000)
        .collect();
    let after: Vec<_> = segs.iter().filter(|s| s.start_us >= up_us).collect();
    assert!(!before.is_empty() && after.len() >= 2, "{segs:#?}");
    assert_eq!(
        before.len() + after.len(),
        segs.len(),
        "a segment spans the outage"
    );
    let gap = after[0].start_us - before.last().map_or(0, |s| s.end_us());
    assert!(gap >= 3_500_000, "gap of only {gap} µs");
    assert!(nvr.log_text().contains("stream failed"));
    let r = stop_reports(&nvr.log_text(), "porch", "main")[0];
    assert_eq!(r.received, r.recorded + r.before_key, "{r:?}");
}

#[test]
fn kill_9_then_restart_loses_at_most_the_flush_interval() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"60s\"\nflush_interval = \"2s\"\n{MIN_FREE}"),
        "garage",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.start();
    sleep_s(12);
    let kill_us = now_us();
    nvr.kill9();
    let segs = nvr.segments();
    assert!(
        segs.iter().any(|s| s.state == SegmentState::Open),
        "{segs:#?}"
    );
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(!ok && out.contains("left open"), "{out}");

    nvr.start();
    sleep_s(6);
    nvr.stop();
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
    let segs = nvr.segments();
    check_segments(&nvr.data(), &segs);
    let first = &segs[0];
    let lost_s = (kill_us - first.end_us()) as f64 / 1e6;
    assert!(lost_s <= 2.0, "lost {lost_s} s at kill -9");

    // Damage the files by hand: verify says what, --repair mends it.
    let last = segs.last().expect("segments");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(nvr.data().join(&last.path))
        .expect("open");
    std::io::Write::write_all(&mut f, b"\0\0\x01\0moof-torn").expect("append");
    std::fs::remove_file(nvr.data().join(&first.path)).expect("remove");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(
        !ok && out.contains("torn tail") && out.contains("file is missing"),
        "{out}"
    );
    let (ok, out) = nvr.cli(&["verify", "--repair"]);
    assert!(ok, "{out}");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
    assert_eq!(nvr.segments().len(), segs.len() - 1);
}

#[test]
fn retention_deletes_oldest_first_under_each_cap() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"2s\"\nmax_bytes = \"3MB\"\nretention_interval = \"1s\"\n{MIN_FREE}"
        ),
        &[
            Cam {
                name: "a",
                url: format!("rtsp://127.0.0.1:{port}/a/main"),
                auth: None,
                extra: "",
            },
            Cam {
                name: "b",
                url: format!("rtsp://127.0.0.1:{port}/b/main"),
                auth: None,
                extra: "max_bytes = \"800KB\"",
            },
        ],
    );
    nvr.start();
    sleep_s(24);
    nvr.stop();
    let log = nvr.log_text();
    assert!(log.contains("retention deleted"), "{log}");
    let segs = nvr.segments();
    check_segments(&nvr.data(), &segs);
    let biggest = segs.iter().map(|s| s.progress.bytes).max().unwrap_or(0);
    let bytes = |cam: &str| -> u64 {
        segs.iter()
            .filter(|s| s.camera == cam)
            .map(|s| s.progress.bytes)
            .sum()
    };
    // Caps hold up to what was written since the last pass (one segment each).
    assert!(bytes("b") <= 800_000 + biggest, "b holds {}", bytes("b"));
    assert!(bytes("a") + bytes("b") <= 3_000_000 + 2 * biggest);
    for cam in ["a", "b"] {
        let s: Vec<_> = segs.iter().filter(|s| s.camera == cam).collect();
        assert!(!s.is_empty());
        // Oldest first: what is left is an unbroken run up to the newest.
        for w in s.windows(2) {
            assert!(
                (w[1].start_us - w[0].end_us()).abs() <= 1,
                "{cam}: hole in the middle"
            );
        }
    }
    // Deleted files are gone from disk too, and nothing else is.
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
}

#[test]
fn export_across_three_segments_is_exact() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        &format!("segment_duration = \"4s\"\n{MIN_FREE}"),
        "side",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.start();
    // Segments end on the first key frame after 4 s (6 s here): a fourth has
    // begun by 22 s whatever the connection took.
    sleep_s(22);
    nvr.stop();
    let segs = nvr.segments();
    assert!(segs.len() >= 4, "{segs:#?}");
    let (s0, s2) = (&segs[0], &segs[2]);
    let from_us = s0.start_us + 1_500_000;
    let to_us = s2.start_us + 1_200_000;
    // Expected: every frame from the key frame at or before `from` to before `to`,
    // read from the segment files themselves.
    let mut frames: Vec<(f64, bool)> = Vec::new();
    for s in &segs[..3] {
        let pk = ffprobe_packets(&nvr.data().join(&s.path));
        let base = pk[0].pts;
        frames.extend(
            pk.iter()
                .map(|p| (s.start_us as f64 / 1e6 + p.pts - base, p.key)),
        );
    }
    let from = from_us as f64 / 1e6;
    let to = to_us as f64 / 1e6;
    let start = frames
        .iter()
        .rposition(|&(t, k)| k && t <= from + 1e-6)
        .expect("a key frame before from");
    let expected: Vec<f64> = frames[start..]
        .iter()
        .map(|&(t, _)| t)
        .filter(|&t| t < to - 1e-6)
        .collect();

    let out = nvr.export("side", from_us, to_us);
    let pk = ffprobe_packets(&out);
    assert_eq!(pk.len(), expected.len(), "frame count");
    assert!(pk[0].key);
    let span = pk.last().expect("frames").pts - pk[0].pts;
    let expected_span = expected.last().expect("frames") - expected[0];
    assert!(
        (span - expected_span).abs() < 0.001,
        "{span} vs {expected_span}"
    );
    assert_eq!(assert_decodes(&out), expected.len());
    // A range with no recordings fails cleanly and leaves no file behind.
    let empty = nvr.dir.path().join("empty.mp4");
    let (ok, text) = nvr.cli(&[
        "export",
        "--camera",
        "side",
        "--from",
        "2001-01-01T00:00:00Z",
        "--to",
        "2001-01-01T00:01:00Z",
        "-o",
        empty.to_str().expect("path"),
    ]);
    assert!(!ok && text.contains("no recordings"), "{text}");
    assert!(!empty.exists() && !empty.with_extension("mp4.partial").exists());
}
