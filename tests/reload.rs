//! Reloading the config while Hearth records (against Hearth's simulated
//! camera, the real index and log): a changed file or SIGHUP starts, restarts
//! and stops only the cameras whose settings changed; the others lose no
//! frame; a broken file changes nothing and names its line.

mod common;

use common::*;
use std::time::Duration;

const STORAGE: &str = "segment_duration = \"4s\"\nmin_free = \"1MB\"\n";

/// Rewrites the running config and waits until Hearth's log has `want` once
/// more than before.
#[track_caller]
fn edit_and_wait(nvr: &Nvr, text: &str, want: &str) {
    let before = nvr.log_text().matches(want).count();
    std::fs::write(&nvr.config, text).expect("write config");
    assert!(
        wait_until(Duration::from_secs(30), || nvr
            .log_text()
            .matches(want)
            .count()
            > before),
        "no {want:?} after the edit: {}",
        nvr.log_text()
    );
}

fn camera_table(name: &str, port: u16, extra: &str) -> String {
    format!(
        "\n[[cameras]]\nname = \"{name}\"\nurl = \"rtsp://127.0.0.1:{port}/{name}/main\"\n{extra}"
    )
}

#[test]
fn cameras_added_changed_and_removed_in_the_file_leave_the_others_recording() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::new(
        STORAGE,
        &[Cam {
            name: "a",
            url: format!("rtsp://127.0.0.1:{port}/a/main"),
            auth: None,
            extra: "",
        }],
    );
    let base = std::fs::read_to_string(&nvr.config).expect("config");
    nvr.start();
    assert!(wait_until(Duration::from_secs(30), || indexed_frames(
        &nvr, "a"
    ) > 0));

    // Added: b starts recording, a goes on.
    let with_b = format!("{base}# the garden\n{}", camera_table("b", port, ""));
    edit_and_wait(
        &nvr,
        &with_b,
        "config reloaded (the file changed): added [b]",
    );
    assert!(
        wait_until(Duration::from_secs(30), || indexed_frames(&nvr, "b") > 0),
        "b never recorded: {}",
        nvr.log_text()
    );

    // Changed: only b starts again.
    let b_changed = format!(
        "{base}{}",
        camera_table("b", port, "[cameras.motion]\nsensitivity = 0.8\n")
    );
    edit_and_wait(&nvr, &b_changed, "restarted [b]");
    assert_eq!(stop_reports(&nvr.log_text(), "b", "main").len(), 1);
    let frames_b = indexed_frames(&nvr, "b");
    assert!(wait_until(Duration::from_secs(30), || indexed_frames(
        &nvr, "b"
    ) > frames_b));

    // SIGHUP with nothing changed does not end the process or touch a camera.
    let p = nvr.proc.as_ref().expect("running");
    p.signal(libc::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(30), || nvr
            .log_text()
            .contains("config reloaded (SIGHUP): no camera changed")),
        "{}",
        nvr.log_text()
    );

    // Removed: b stops and finishes its segment; a goes on.
    edit_and_wait(&nvr, &base, "removed [b]");
    let reports_b = stop_reports(&nvr.log_text(), "b", "main");
    assert_eq!(reports_b.len(), 2, "{reports_b:?}");
    for r in &reports_b {
        assert_eq!(r.received, r.recorded + r.before_key, "{r:?}");
    }
    sleep_s(3);
    nvr.stop();
    assert_unbroken(&nvr, "a");
    let recorded_b: u64 = reports_b.iter().map(|r| r.recorded).sum();
    let segs_b = camera_segments(&nvr, "b");
    assert_eq!(check_segments(&nvr.data(), &segs_b), recorded_b);
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
}

#[test]
fn a_broken_file_on_sighup_keeps_the_running_config_and_names_the_line() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::new(
        STORAGE,
        &[Cam {
            name: "a",
            url: format!("rtsp://127.0.0.1:{port}/a/main"),
            auth: None,
            extra: "",
        }],
    );
    let base = std::fs::read_to_string(&nvr.config).expect("config");
    nvr.start();
    assert!(wait_until(Duration::from_secs(30), || indexed_frames(
        &nvr, "a"
    ) > 0));

    // A second camera whose URL is not a URL, on the file's last line.
    let broken = format!("{base}\n[[cameras]]\nname = \"b\"\nurl = \"not a url\"\n");
    let line = broken.lines().count();
    std::fs::write(&nvr.config, &broken).expect("write");
    nvr.proc.as_ref().expect("running").signal(libc::SIGHUP);
    let want = format!("{}:{line}: key `url`", nvr.config.display());
    assert!(
        wait_until(Duration::from_secs(30), || nvr.log_text().contains(&want)),
        "no {want:?} in {}",
        nvr.log_text()
    );
    assert!(nvr.log_text().contains("config not reloaded"));
    sleep_s(3);
    nvr.stop();
    assert_unbroken(&nvr, "a");
    assert!(camera_segments(&nvr, "b").is_empty());
}
