//! The README's demo command: `hearth demo` records simulated cameras, logs its
//! first admin in through the one-time link it prints, stops cleanly on SIGINT
//! having recorded every frame it received, and leaves a verifiable index.

mod common;

use common::http::Client;
use common::*;
use std::process::{Command, Stdio};

#[test]
fn demo_records_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let out_path = dir.path().join("out.txt");
    let port = free_port();
    let child = Command::new(HEARTH)
        .args(["demo", "--cameras", "2", "--data-dir"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::fs::File::create(&out_path).expect("out"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start demo");
    let mut demo = Proc::new(child, "hearth demo");
    let config = data.join("demo.toml");
    assert!(wait_until(std::time::Duration::from_secs(120), || {
        std::fs::read_to_string(&out_path).is_ok_and(|s| s.contains("Ctrl-C"))
    }));
    // The printed link logs the admin in once.
    let printed = std::fs::read_to_string(&out_path).expect("output");
    let link = printed
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("http://127.0.0.1:{port}")))
        .filter(|p| p.starts_with("/login/once/"))
        .unwrap_or_else(|| panic!("no login link: {printed}"))
        .to_owned();
    let mut c = Client::new(&format!("http://127.0.0.1:{port}"));
    // The link is printed only once the server takes connections: no retrying.
    assert_eq!(c.get("/healthz").status, 200);
    let r = c.get(&link);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/"));
    let cookie = r.header("set-cookie").expect("a session cookie");
    c.cookie = cookie.split(';').next().map(str::to_owned);
    let wall = c.get("/");
    assert_eq!(wall.status, 200);
    assert!(wall.text().contains("demo1"), "the live wall, logged in");
    let again = Client::new(&c.base).get(&link);
    assert_eq!(again.status, 401, "a link is good once");
    assert!(again.text().contains("used already"));
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
