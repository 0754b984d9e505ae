//! A real small disk (a tmpfs mounted in a private mount namespace with
//! `unshare -rm`): with a free-space floor, retention keeps recording going; without
//! one, the disk fills, Hearth says so, keeps running, stops cleanly, and every
//! indexed recording stays whole and playable.

mod common;

use common::*;
use std::process::Command;

/// Runs `script` (sh) in a new user + mount namespace with a tmpfs of `size` at
/// `$D`; returns its exit status and stdout + stderr.
fn in_small_disk(dir: &std::path::Path, size: &str, script: &str) -> (bool, String) {
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c"])
        .arg(format!(
            "set -u; mount -t tmpfs -o size={size} tmpfs \"$D\" || exit 99\n{script}"
        ))
        .env("D", dir.join("disk"))
        .env("HEARTH", HEARTH)
        .env("CFG", dir.join("hearth.toml"))
        .env("LOG", dir.join("hearth.log"))
        .output()
        .expect("unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(99), "cannot mount a tmpfs: {text}");
    (out.status.success(), text)
}

/// Runs Hearth, does `middle` while it records, stops it, verifies, decodes every file.
fn scenario(middle: &str) -> String {
    format!("{SCENARIO_START}{middle}{SCENARIO_END}")
}

const SCENARIO_START: &str = r#"
"$HEARTH" init --config "$CFG" >/dev/null || exit 98
"$HEARTH" run --config "$CFG" 2>"$LOG" &
pid=$!
"#;

const SCENARIO_END: &str = r#"
kill -TERM $pid
wait $pid; echo "run-exit=$?"
"$HEARTH" verify --config "$CFG"; echo "verify-exit=$?"
n=0
for f in $(find "$D/data/recordings" -name '*.mp4'); do
  ffmpeg -v error -i "$f" -f null - 2>&1 | head -3
  n=$((n+1))
done
echo "files=$n"
"#;

fn setup(storage: &str) -> (tempfile::TempDir, Proc) {
    let port = free_port();
    let cam = fake_camera(port, None);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("disk")).expect("mkdir");
    let cfg = format!(
        "[storage]\ndata_dir = \"disk/data\"\nsegment_duration = \"2s\"\nretention_interval = \"1s\"\n{storage}\n\n\
         [[cameras]]\nname = \"cam\"\nurl = \"rtsp://127.0.0.1:{port}/main\"\n"
    );
    std::fs::write(dir.path().join("hearth.toml"), cfg).expect("config");
    (dir, cam)
}

fn number(text: &str, key: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {text}"))
}

#[test]
fn a_filling_disk_fails_writes_cleanly_and_keeps_what_was_written() {
    // ~175 kB/s of video into 3 MB: full after about 15 s.
    let (dir, _cam) = setup("min_free = \"0\"");
    let (_, out) = in_small_disk(dir.path(), "3m", &scenario("sleep 24"));
    let log = std::fs::read_to_string(dir.path().join("hearth.log")).unwrap_or_default();
    assert_eq!(number(&out, "run-exit="), 0, "{out}\n{log}");
    assert_eq!(number(&out, "verify-exit="), 0, "{out}\n{log}");
    assert!(number(&out, "files=") >= 3, "{out}");
    assert!(
        !out.lines()
            .any(|l| l.contains("rror") && !l.contains("exit")),
        "a file does not decode: {out}"
    );
    assert!(
        log.contains("No space left on device"),
        "the full disk was not reported: {log}"
    );
    assert_eq!(
        log.matches("recording failed").count(),
        1,
        "one error for one run of failures: {log}"
    );
    let r = stop_reports(&log, "cam", "main")[0];
    assert!(r.failed > 0, "{r:?}");
    assert_eq!(r.received, r.recorded + r.before_key + r.failed, "{r:?}");
}

#[test]
fn a_free_space_floor_keeps_recording_going() {
    let (dir, _cam) = setup("min_free = \"1500KB\"");
    let (_, out) = in_small_disk(dir.path(), "4m", &scenario("sleep 24"));
    let log = std::fs::read_to_string(dir.path().join("hearth.log")).unwrap_or_default();
    assert_eq!(number(&out, "run-exit="), 0, "{out}\n{log}");
    assert_eq!(number(&out, "verify-exit="), 0, "{out}\n{log}");
    assert!(log.contains("retention deleted"), "{log}");
    assert!(!log.contains("recording failed"), "{log}");
    let r = stop_reports(&log, "cam", "main")[0];
    assert_eq!((r.failed, r.dropped), (0, 0));
    assert_eq!(r.received, r.recorded + r.before_key, "{r:?}");
}

#[test]
fn recording_resumes_when_space_comes_back() {
    let (dir, _cam) = setup("min_free = \"0\"");
    // Another program fills the disk for a while, then frees it.
    let middle = "sleep 6\ndd if=/dev/zero of=\"$D/ballast\" bs=64k 2>/dev/null\nsleep 6\nrm \"$D/ballast\"\nsleep 8";
    let (_, out) = in_small_disk(dir.path(), "6m", &scenario(middle));
    let log = std::fs::read_to_string(dir.path().join("hearth.log")).unwrap_or_default();
    assert_eq!(number(&out, "run-exit="), 0, "{out}\n{log}");
    assert_eq!(number(&out, "verify-exit="), 0, "{out}\n{log}");
    let failed_at = log.find("recording failed").expect("no failure logged");
    let resumed_at = log.find("recording resumed").expect("never resumed");
    assert!(resumed_at > failed_at);
    assert_eq!(log.matches("recording failed").count(), 1, "{log}");
    let r = stop_reports(&log, "cam", "main")[0];
    assert!(r.failed > 0 && r.recorded > 0, "{r:?}");
    assert_eq!(r.received, r.recorded + r.before_key + r.failed, "{r:?}");
}
