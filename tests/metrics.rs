//! `/metrics` end to end: a real Hearth recording and detecting on a simulated
//! camera; the exposition passes Debian's `promtool check metrics`; the figures
//! move with what Hearth does (frames recorded, pictures analysed, a refused
//! login); a local scrape needs no session, a viewer's session is refused; and
//! a real Prometheus server (Debian's) scrapes it and answers queries on it.

mod common;

use common::http::Client;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const ADMIN: (&str, &str) = ("admin", "admin-password-1");
const ANN: (&str, &str) = ("ann", "ann-password-12");

/// The value of the sample `series` (name and labels as written) in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}\n{text}"
    );
}

#[test]
fn metrics_follow_what_hearth_does_and_a_real_prometheus_scrapes_them() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"2s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        &[Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/front/main"),
            auth: None,
            extra: "",
        }],
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.add_user(ANN.0, "viewer", "front", ANN.1);
    nvr.start();
    let base = nvr.web_url();
    let local = Client::new(&base);
    let series = |name: &str| format!("{name}{{camera=\"front\",stream=\"main\"}}");
    let mut text = String::new();
    assert!(
        wait_until(Duration::from_secs(60), || {
            text = local.get("/metrics").text();
            value(&text, &series("hearth_recorder_frames_total")).is_some_and(|v| v > 0.0)
                && value(&text, &series("hearth_detection_pictures_total")).is_some_and(|v| v > 0.0)
        }),
        "nothing recorded or analysed: {text}\n{}",
        nvr.log_text()
    );
    promtool_check(&text);
    assert_eq!(
        value(&text, &series("hearth_stream_up")),
        Some(1.0),
        "{text}"
    );
    assert!(value(&text, &series("hearth_stream_frames_per_second")).is_some_and(|v| v > 0.0));
    assert!(value(&text, &series("hearth_detection_seconds_total")).is_some_and(|v| v > 0.0));
    assert_eq!(
        value(&text, &series("hearth_recorder_dropped_frames_total")),
        Some(0.0)
    );
    assert_eq!(
        value(&text, "hearth_camera_private{camera=\"front\"}"),
        Some(0.0)
    );
    assert!(value(&text, "process_resident_memory_bytes").is_some_and(|v| v > 1e6));
    assert!(value(&text, "hearth_disk_free_bytes").is_some_and(|v| v > 0.0));
    assert!(value(&text, "hearth_retention_deleted_segments_total").is_some());
    let frames = value(&text, &series("hearth_recorder_frames_total")).unwrap_or(0.0);
    let audit = value(&text, "hearth_audit_entries").unwrap_or(0.0);
    assert_eq!(value(&text, "hearth_logins_refused_total"), Some(0.0));

    // A refused login and a login are counted and audited; frames go on.
    let mut wrong = Client::new(&base);
    assert_eq!(wrong.login(ANN.0, "not-her-password").status, 401);
    let mut ann = Client::new(&base);
    assert_eq!(ann.login(ANN.0, ANN.1).status, 200);
    assert!(
        wait_until(Duration::from_secs(20), || {
            text = local.get("/metrics").text();
            value(&text, &series("hearth_recorder_frames_total")).is_some_and(|v| v > frames)
        }),
        "{text}"
    );
    assert_eq!(value(&text, "hearth_logins_refused_total"), Some(1.0));
    assert!(value(&text, "hearth_audit_entries").is_some_and(|v| v >= audit + 2.0));
    // A viewer's session is refused; an admin's is not.
    assert_eq!(ann.get("/metrics").status, 403);
    let mut admin = Client::new(&base);
    assert_eq!(admin.login(ADMIN.0, ADMIN.1).status, 200);
    assert_eq!(admin.get("/metrics").status, 200);

    // Debian's Prometheus scrapes Hearth and answers a query on what it got.
    let dir = tempfile::tempdir().expect("tempdir");
    let prom_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: hearth\n    \
             static_configs:\n      - targets: ['127.0.0.1:{web}']\n"
        ),
    )
    .expect("prometheus config");
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian's package)");
    let _prometheus = Proc::new(child, "prometheus");
    assert!(
        wait_until(Duration::from_secs(60), || std::net::TcpStream::connect((
            "127.0.0.1",
            prom_port
        ))
        .is_ok()),
        "Prometheus never listened"
    );
    let prom = Client::new(&format!("http://127.0.0.1:{prom_port}/"));
    let query = |q: &str| -> Option<f64> {
        let r = prom.get(&format!("/api/v1/query?query={q}"));
        r.json()["data"]["result"][0]["value"][1]
            .as_str()?
            .parse()
            .ok()
    };
    assert!(
        wait_until(Duration::from_secs(60), || query(
            "up%7Bjob%3D%22hearth%22%7D"
        ) == Some(1.0)
            && query("hearth_recorder_frames_total").is_some_and(|v| v > 0.0)),
        "Prometheus never scraped Hearth: {}",
        prom.get("/api/v1/targets").text()
    );
    nvr.stop();
}
