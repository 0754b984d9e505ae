//! The admin's camera tools against real RTSP servers: Test connection shows
//! what Hearth's simulated camera sends (codec, size, rates, a still), the
//! camera's error in words when it fails, refuses anything but `rtsp://`,
//! follows no redirect and sends a stored password only to its own camera; the
//! motion preview runs a camera's live picture through unsaved settings. Both
//! are audited and closed to viewers.

mod common;

use base64::Engine;
use common::http::Client;
use common::*;
use serde_json::{Value, json};
use std::net::TcpListener;

const ADMIN: (&str, &str) = ("boss", "boss-password-1");
const VIEWER: (&str, &str) = ("ann", "ann-password-1");
const CAM_AUTH: (&str, &str) = ("admin", "cam-secret-77");

fn test_connection(c: &Client, ask: Value) -> Value {
    let r = c.post("/api/admin/camera-test", ask);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn jpeg(data_url: &Value) -> Vec<u8> {
    let s = data_url.as_str().expect("a still");
    let b64 = s
        .strip_prefix("data:image/jpeg;base64,")
        .expect("a JPEG data URL");
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64")
}

/// The digest answer to the challenger's `DESCRIBE` (realm "x", nonce "abc")
/// that `password` makes.
fn digest_response(user: &str, password: &str, uri: &str) -> String {
    use md5::{Digest, Md5};
    let hex = |s: String| format!("{:x}", Md5::digest(s.as_bytes()));
    let ha1 = hex(format!("{user}:x:{password}"));
    let ha2 = hex(format!("DESCRIBE:{uri}"));
    format!("response=\"{}\"", hex(format!("{ha1}:abc:{ha2}")))
}

/// A listener on another loopback address: whether anything connected to it.
fn elsewhere() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.2:0").expect("bind");
    l.set_nonblocking(true).expect("nonblocking");
    let at = l.local_addr().expect("addr").to_string();
    (l, at)
}

#[test]
fn an_admin_tests_a_camera_connection_and_previews_its_motion_settings() {
    let port = free_port();
    let _cam = fake_camera(port, Some(CAM_AUTH));
    let web = free_port();
    let cam_url = format!("rtsp://127.0.0.1:{port}/front/main");
    let mut nvr = Nvr::one(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\n"
        ),
        "front",
        cam_url.clone(),
        Some(CAM_AUTH),
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.add_user(VIEWER.0, "viewer", "front", VIEWER.1);
    nvr.start();
    let url = nvr.web_url();
    let mut admin = Client::new(&url);
    assert_eq!(admin.login(ADMIN.0, ADMIN.1).status, 200);
    let mut viewer = Client::new(&url);
    assert_eq!(viewer.login(VIEWER.0, VIEWER.1).status, 200);

    // What the simulated camera sends, with a still that is a real JPEG.
    let ok = test_connection(
        &admin,
        json!({"url": cam_url, "username": CAM_AUTH.0, "password": CAM_AUTH.1, "transport": "tcp"}),
    );
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(
        ok["codec"].as_str().is_some_and(|c| c.starts_with("avc1")),
        "{ok}"
    );
    assert_eq!(
        (ok["width"].as_u64(), ok["height"].as_u64()),
        (Some(1280), Some(720))
    );
    assert!(ok["fps"].as_f64().is_some_and(|f| f > 1.0), "{ok}");
    assert!(ok["bitrate_kbps"].as_f64().is_some_and(|b| b > 1.0), "{ok}");
    assert!(jpeg(&ok["still"]).starts_with(&[0xff, 0xd8]));

    // Editing the configured camera, its stored password is used for its own host.
    let ok = test_connection(
        &admin,
        json!({"camera": "front", "url": cam_url, "username": CAM_AUTH.0}),
    );
    assert_eq!(ok["ok"], true, "{ok}");

    // A wrong password is the camera's refusal in words, not a hang.
    let no = test_connection(
        &admin,
        json!({"url": cam_url, "username": CAM_AUTH.0, "password": "wrong"}),
    );
    assert_eq!(no["ok"], false);
    let why = no["error"].as_str().expect("error");
    assert!(
        why.contains("DESCRIBE") && why.contains("user name or password"),
        "{why}"
    );
    assert!(!why.contains("wrong") && !why.contains(CAM_AUTH.1), "{why}");

    // Nothing listening: connection refused, in words.
    let closed = free_port();
    let no = test_connection(
        &admin,
        json!({"url": format!("rtsp://127.0.0.1:{closed}/x")}),
    );
    assert_eq!(no["ok"], false);
    assert!(
        no["error"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("refused")),
        "{no}"
    );

    // A stored password never goes to another host: that one is asked without it.
    let (challenger, asked) = scripted_rtsp(|cseq| {
        format!(
            "RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"abc\"\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    });
    let no = test_connection(
        &admin,
        json!({"camera": "front", "url": format!("rtsp://127.0.0.1:{challenger}/main"), "username": CAM_AUTH.0}),
    );
    assert_eq!(no["ok"], false, "{no}");
    let asked = asked.lock().expect("lock").concat();
    assert!(asked.contains("DESCRIBE"), "{asked}");
    let uri = format!("rtsp://127.0.0.1:{challenger}/main");
    let with_secret = digest_response(CAM_AUTH.0, CAM_AUTH.1, &uri);
    assert!(
        asked.contains("response=\""),
        "no digest answer at all: {asked}"
    );
    assert!(
        !asked.contains(&with_secret),
        "the stored password went to another host: {asked}"
    );

    // A redirect to another host is not followed.
    let (other, other_at) = elsewhere();
    let location = format!("rtsp://{other_at}/main");
    let (redirector, _) = scripted_rtsp(move |cseq| {
        format!("RTSP/1.0 302 Moved Temporarily\r\nCSeq: {cseq}\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
            .into_bytes()
    });
    let no = test_connection(
        &admin,
        json!({"url": format!("rtsp://127.0.0.1:{redirector}/main"), "username": "admin", "password": "x"}),
    );
    assert_eq!(no["ok"], false, "{no}");
    assert!(
        no["error"].as_str().is_some_and(|e| e.contains("302")),
        "{no}"
    );
    assert!(other.accept().is_err(), "the redirect was followed");

    // Only rtsp:// URLs with no credentials in them are tried at all.
    for bad in [
        "http://127.0.0.1:80/",
        "rtsps://127.0.0.1/main",
        "file:///etc/passwd",
        "rtsp://admin:pw@127.0.0.1/main",
        "not a url",
    ] {
        let r = admin.post("/api/admin/camera-test", json!({"url": bad}));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        let e = r.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(e.starts_with("url: "), "{bad}: {e}");
        assert!(!e.contains("pw@"), "{e}");
    }

    // The motion preview: the live picture through unsaved settings.
    let list = admin.get("/api/admin/cameras").json();
    let mut motion = list["cameras"][0]["motion"].clone();
    let preview = |motion: &Value| {
        let r = admin.post("/api/admin/cameras/front/motion-preview", motion.clone());
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    let seen = preview(&motion);
    assert!(seen["width"].as_u64().is_some_and(|w| w > 0), "{seen}");
    let steps = seen["steps"].as_array().expect("steps");
    assert!(steps.len() >= 5, "{seen}");
    assert!(jpeg(&seen["still"]).starts_with(&[0xff, 0xd8]));
    // No blob covers the whole picture: nothing counts as motion.
    motion["min_area"] = json!(1.0);
    let seen = preview(&motion);
    assert_eq!(seen["min_area"], 1.0);
    assert!(
        seen["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|s| s["motion"] == false),
        "{seen}"
    );
    assert_eq!(
        admin
            .post("/api/admin/cameras/nowhere/motion-preview", motion.clone())
            .status,
        404
    );

    // Viewers may use neither.
    assert_eq!(
        viewer
            .post("/api/admin/camera-test", json!({"url": cam_url}))
            .status,
        403
    );
    assert_eq!(
        viewer
            .post("/api/admin/cameras/front/motion-preview", motion)
            .status,
        403
    );

    // Each test is audited by host and port only, never a password; the
    // preview's stills too.
    let log = admin.get("/api/audit?limit=10000").json();
    let tests: Vec<&Value> = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "camera_test")
        .collect();
    assert_eq!(tests.len(), 6, "{tests:?}");
    let details: Vec<&str> = tests.iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains(&format!("127.0.0.1:{port}: avc1"))),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .all(|d| !d.contains(CAM_AUTH.1) && !d.contains("/front/main")),
        "{details:?}"
    );
    assert!(
        log.as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "motion_preview" && e["camera"] == "front"),
        "no motion_preview entry"
    );
    nvr.stop();
    assert!(!nvr.log_text().contains(CAM_AUTH.1), "password in the log");
}
