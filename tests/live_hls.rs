//! Live view over HLS, for browsers without Media Source Extensions, played by a
//! real HLS client (ffmpeg's): what it records decodes and is live; the view is
//! one audited live view that ends once the client stops asking; another
//! camera's viewer and a logged-out session get nothing.

mod common;

use common::site::*;
use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn ffmpeg_plays_the_live_stream_over_hls_and_the_view_is_audited() {
    let s = site("tls = \"off\"", 3);
    let ann = logged_in(&s, ANN);
    let cookie = ann.cookie.clone().expect("a session cookie");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("live.mp4");
    let started_us = now_us();
    let run = Command::new("ffmpeg")
        .args(["-v", "error", "-headers"])
        .arg(format!("Cookie: {cookie}\r\n"))
        .arg("-i")
        .arg(format!(
            "{}/api/cameras/front/live.m3u8?stream=main",
            s.url.trim_end_matches('/')
        ))
        .args(["-t", "6", "-c", "copy", "-y"])
        .arg(&out)
        .output()
        .expect("ffmpeg");
    assert!(
        run.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Six seconds of the main stream (1280x720), every picture decoding.
    let frames = assert_decodes(&out);
    assert!(frames >= 60, "{frames} frames in 6 s at 15 fps");
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=width,height", "-of", "csv=p=0"])
        .arg(&out)
        .output()
        .expect("ffprobe");
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "1280,720");

    // The playlist lists whole segments of the live edge, each fetched as fMP4.
    let list = ann.get("/api/cameras/front/live.m3u8?stream=main");
    assert_eq!(list.status, 200);
    assert_eq!(
        list.header("content-type"),
        Some("application/vnd.apple.mpegurl")
    );
    let text = list.text();
    assert!(text.starts_with("#EXTM3U"), "{text}");
    let segment = text
        .lines()
        .rfind(|l| l.ends_with(".m4s"))
        .expect("a segment");
    let seg = ann.get(&format!("/api/cameras/front/{segment}"));
    assert_eq!(seg.status, 200);
    assert_eq!(&seg.body[4..8], b"moof");

    // Bob may not see the front camera: not its playlist, not its segments.
    let bob = logged_in(&s, BOB);
    assert_eq!(bob.get("/api/cameras/front/live.m3u8").status, 404);
    assert_eq!(
        bob.get(&format!("/api/cameras/front/{segment}")).status,
        404
    );
    // Logged out, the session asks in vain.
    assert_eq!(ann.post("/api/logout", serde_json::json!({})).status, 200);
    assert_eq!(
        ann.get(&format!("/api/cameras/front/{segment}")).status,
        401
    );

    // One live view in the audit log, ended once nothing more was asked, saying
    // why: the session ended.
    let admin = logged_in(&s, ADMIN);
    let views = |action: &str| -> Vec<serde_json::Value> {
        admin
            .get("/api/audit?limit=10000")
            .json()
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["action"] == action && e["user"] == "ann")
            .cloned()
            .collect()
    };
    let starts = views("live_start");
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0]["camera"], "front");
    assert_eq!(starts[0]["detail"], "main stream over HLS");
    let mut stops = Vec::new();
    assert!(
        wait_until(Duration::from_secs(40), || {
            stops = views("live_stop");
            !stops.is_empty()
        }),
        "the view never ended"
    );
    let detail = stops[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("of the main stream over HLS; ended: logged out"),
        "{detail}"
    );
    let watched: i64 = detail
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    assert!(
        (0..=(now_us() - started_us) / 1_000_000).contains(&watched),
        "{detail}"
    );
}
