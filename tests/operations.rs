//! Running Hearth for real: a flapping camera cannot fill the log (a few lines
//! per window, the rest counted), `hearth status` answers from the running
//! Hearth through its socket and says when none runs, and `--log-format json`
//! (or `HEARTH_LOG_FORMAT=json`) writes every line as one JSON object.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_flapping_camera_logs_a_few_lines_not_one_per_drop() {
    let dir = tempfile::tempdir().unwrap();
    let cam_log = dir.path().join("camera.log");
    let port = free_port();
    let _cam = fake_camera_logged(port, &cam_log, &["--drop-after", "0.5"]);
    let mut nvr = Nvr::one(
        "min_free = \"1MB\"",
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.start();
    // Each session sends video, so it is tried again at once: many drops.
    assert!(
        wait_until(Duration::from_secs(90), || read(&cam_log)
            .matches("session closed")
            .count()
            >= 12),
        "the camera did not flap: {}",
        read(&cam_log)
    );
    let log = nvr.log_text();
    let said = log
        .lines()
        .filter(|l| {
            l.contains("porch") && (l.contains("stream failed") || l.contains(" connected"))
        })
        .count();
    assert!(
        (2..=6).contains(&said),
        "{said} lines for {} drops:\n{log}",
        read(&cam_log).matches("session closed").count()
    );
    nvr.stop();
}

#[test]
fn status_answers_from_the_running_hearth_and_logs_can_be_json() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        "min_free = \"1MB\"\nsegment_duration = \"2s\"",
        "front",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.env.push(("HEARTH_LOG_FORMAT", "json"));
    nvr.start();
    let mut v = serde_json::Value::Null;
    assert!(
        wait_until(Duration::from_secs(60), || {
            v = nvr.status_json();
            v["cameras"][0]["streams"][0]["recorded_frames"]
                .as_u64()
                .is_some_and(|n| n > 0)
        }),
        "{v}\n{}",
        nvr.log_text()
    );
    assert_eq!(v["cameras"][0]["name"], "front");
    assert_eq!(v["cameras"][0]["streams"][0]["connected"], true);
    let (ok, text) = nvr.cli(&["status"]);
    assert!(ok, "{text}");
    assert!(text.starts_with("Hearth "), "{text}");
    assert!(
        text.contains("front: record continuous\n  main: connected, "),
        "{text}"
    );

    // Every line of the log is one JSON object; the camera's are labelled.
    let log = nvr.log_text();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "connected" && l["camera"] == "front" && l["level"] == "INFO"),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["target"].is_string())
    );

    // Stopped: the socket is gone and status says nothing runs.
    nvr.stop();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("status")
        .arg("--config")
        .arg(&nvr.config)
        .output()
        .expect("hearth status");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("it is not running on this config"), "{err}");
    assert!(!nvr.data().join("hearth.sock").exists());
}
