//! `hearth detect` over real video files (made by ffmpeg): the live detector's
//! events, in seconds from the start of the file.

use std::path::Path;
use std::process::Command;

const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

fn make(path: &Path, filter: &str) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", filter])
        .args(["-c:v", "libx264", "-g", "20", "-pix_fmt", "yuv420p"])
        .arg(path)
        .status()
        .expect("ffmpeg");
    assert!(ok.success());
}

fn detect(path: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(HEARTH)
        .args(["detect", "--input"])
        .arg(path)
        .args(extra)
        .output()
        .expect("hearth detect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn finds_an_object_crossing_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = dir.path().join("crossing.mp4");
    // Noisy grey; a box crosses between 3 s and 6 s.
    make(
        &clip,
        "color=c=gray:s=320x180:r=10:d=12,noise=alls=12:allf=t[bg];color=c=white:s=30x50:r=10:d=12[fg];\
         [bg][fg]overlay=x='if(between(t,3,6),(t-3)*90,-100)':y=60:eval=frame",
    );
    let r = detect(&clip, &["--frames"]);
    let events = r["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{r}");
    let (start, end) = (
        events[0]["start"].as_f64().unwrap_or(-1.0),
        events[0]["end"].as_f64().unwrap_or(-1.0),
    );
    assert!(
        (start - 3.0).abs() <= 0.5 && (end - 6.0).abs() <= 0.5,
        "{r}"
    );
    assert!(events[0]["peak"].as_f64().is_some_and(|p| p > 0.0));
    let frames = r["frames"].as_array().expect("frames");
    // 12 s analysed at 5 per second.
    assert!((58..=61).contains(&frames.len()), "{}", frames.len());
}

#[test]
fn a_light_switch_and_noise_are_no_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A still, noisy picture whose light goes up sharply at 5 s.
    let still = dir.path().join("still.mp4");
    make(
        &still,
        "color=c=gray:s=320x180:r=10:d=12,noise=alls=14:allf=t,eq=brightness=0.25:enable='gte(t,5)'",
    );
    let r = detect(&still, &[]);
    assert_eq!(r["events"].as_array().map(Vec::len), Some(0), "{r}");
    assert!(r.get("frames").is_none());
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.mp4");
    std::fs::write(&junk, b"this is not a video").expect("write");
    let out = Command::new(HEARTH)
        .args(["detect", "--input"])
        .arg(&junk)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.mp4"));
    let out = Command::new(HEARTH)
        .args(["detect", "--fps", "0", "--input"])
        .arg(&junk)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fps"));
}
