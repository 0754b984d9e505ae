//! The README's demo command: `hearth demo` records simulated cameras, stops cleanly
//! on SIGINT having recorded every frame it received, and leaves a verifiable index.

mod common;

use common::*;
use std::process::{Command, Stdio};

#[test]
fn demo_records_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let out_path = dir.path().join("out.txt");
    let child = Command::new(HEARTH)
        .args(["demo", "--cameras", "2", "--data-dir"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .stdout(std::fs::File::create(&out_path).expect("out"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start demo");
    let mut demo = Proc::new(child, "hearth demo");
    let config = data.join("demo.toml");
    assert!(wait_until(std::time::Duration::from_secs(120), || {
        std::fs::read_to_string(&out_path).is_ok_and(|s| s.contains("Ctrl-C"))
    }));
    sleep_s(8);
    demo.signal(libc::SIGINT);
    let status = demo.wait(std::time::Duration::from_secs(60));
    let out = std::fs::read_to_string(&out_path).expect("output");
    assert!(status.success(), "{out}");
    for cam in ["demo1", "demo2"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{cam}/main:")))
            .unwrap_or_else(|| panic!("no summary for {cam}: {out}"));
        let nums: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(nums[0] > 0 && nums[0] == nums[1], "{line}");
    }
    let verify = Command::new(HEARTH)
        .args(["verify", "--config"])
        .arg(&config)
        .output()
        .expect("verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
