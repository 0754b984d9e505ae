//! Privacy mode end to end: a camera private by its schedule is never
//! connected to (the simulated camera's own log shows no session from Hearth),
//! live view and connection tests answer that it is private, an admin ends it,
//! a viewer's group switch ("home mode") closes every session of the group, the
//! state outlasts a restart, every switch is in the audit log and the periods
//! are on the camera's timeline.

mod common;

use common::http::Client;
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const ADMIN: (&str, &str) = ("admin", "admin-password-1");
const ANN: (&str, &str) = ("ann", "ann-password-12");

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn camera(c: &Client, name: &str) -> Value {
    let all = c.get("/api/cameras").json();
    all.as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no camera {name} in {all}"))
}

fn audit(c: &Client, action: &str) -> Vec<(String, String, String)> {
    let rows = c.get(&format!("/api/audit?action={action}")).json();
    rows.as_array()
        .expect("audit rows")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("camera"), s("user"), s("detail"))
        })
        .collect()
}

#[test]
fn a_private_camera_is_never_pulled_and_every_switch_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let cam_log = dir.path().join("camera.log");
    let port = free_port();
    let _cam = fake_camera_logged(port, &cam_log, &[]);
    let web = free_port();
    let url = |path: &str| format!("rtsp://127.0.0.1:{port}/{path}/main");
    let den_extra = "privacy_schedule = [\"daily 00:00-24:00\"]\nprivacy_groups = [\"indoor\"]";
    let hall_extra = "privacy_groups = [\"indoor\"]";
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"2s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        &[
            Cam {
                name: "den",
                url: url("den"),
                auth: None,
                extra: den_extra,
            },
            Cam {
                name: "hall",
                url: url("hall"),
                auth: None,
                extra: hall_extra,
            },
        ],
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.add_user(ANN.0, "viewer", "den,hall", ANN.1);
    nvr.start();
    let base = nvr.web_url();
    let segments = |name: &str| camera_segments(&nvr, name).len();

    // The schedule covers now: the hall is pulled and recorded, the den never.
    assert!(
        wait_until(Duration::from_secs(60), || segments("hall") >= 2),
        "the hall never recorded: {}",
        nvr.log_text()
    );
    let log = read(&cam_log);
    assert!(log.contains(&format!("PLAY {}", url("hall"))), "{log}");
    assert!(
        !log.contains("/den/"),
        "the den's camera saw Hearth while private: {log}"
    );
    assert_eq!(segments("den"), 0);

    // Everything that would show it now says it is private.
    let admin = Client::logged_in(&base, ADMIN);
    let den = camera(&admin, "den");
    assert_eq!(den["private"]["by"], "schedule", "{den}");
    assert!(
        den["streams"].as_array().is_some_and(Vec::is_empty),
        "{den}"
    );
    for path in ["live.jpg", "live.m3u8"] {
        let r = admin.get(&format!("/api/cameras/den/{path}"));
        assert_eq!(r.status, 409, "{path}: {}", r.text());
        assert!(
            r.text().contains("den is private since") && r.text().contains("(by schedule)"),
            "{}",
            r.text()
        );
    }
    let cookie = admin.cookie.clone().expect("cookie");
    match live_ws::handshake(&base, &cookie, "den", "") {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 409),
        Err(e) => panic!("live view of a private camera: {e}"),
        Ok(_) => panic!("live view of a private camera was served"),
    }
    let test = admin.post(
        "/api/admin/camera-test",
        json!({"camera": "den", "url": url("den"), "username": "", "transport": "tcp", "audio": false}),
    );
    assert_eq!(test.status, 409, "{}", test.text());
    let page = admin.get("/cameras/den").text();
    assert!(
        page.contains("Private since") && page.contains("by its schedule"),
        "{page}"
    );
    assert!(
        !read(&cam_log).contains("/den/"),
        "a refused view pulled the camera"
    );

    // A viewer may not end privacy; an admin may, and the den is pulled again.
    let ann = Client::logged_in(&base, ANN);
    let r = ann.post("/api/cameras/den/privacy", json!({"private": false}));
    assert_eq!(r.status, 403, "{}", r.text());
    let r = admin.post("/api/cameras/den/privacy", json!({"private": false}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["changed"], json!(["den"]));
    assert!(
        wait_until(Duration::from_secs(60), || segments("den") >= 1),
        "the den never recorded after privacy ended: {}",
        nvr.log_text()
    );
    assert!(read(&cam_log).contains(&format!("PLAY {}", url("den"))));
    assert!(camera(&admin, "den")["private"].is_null());

    // Home mode from a viewer: both cameras of the group, their sessions closed.
    let r = ann.post("/api/privacy/groups/indoor", json!({"private": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["changed"], json!(["den", "hall"]));
    for cam in ["den", "hall"] {
        let closed = format!("session closed ({}/)", url(cam));
        assert!(
            wait_until(Duration::from_secs(20), || read(&cam_log).contains(&closed)),
            "{cam}'s session stayed open: {}",
            read(&cam_log)
        );
        assert_eq!(camera(&ann, cam)["private"]["by"], "ann");
    }
    let r = ann.post("/api/privacy/groups/indoor", json!({"private": false}));
    assert_eq!(r.status, 403);
    let r = ann.post("/api/privacy/groups/attic", json!({"private": true}));
    assert_eq!(r.status, 404);

    // Across a restart nothing is pulled: the switches are kept.
    nvr.stop();
    let seen = read(&cam_log).len();
    let base = nvr.restart_web();
    sleep_s(5);
    let later = read(&cam_log)[seen..].to_owned();
    assert!(
        !later.contains("DESCRIBE"),
        "Hearth pulled a private camera after a restart: {later}"
    );
    let admin = Client::logged_in(&base, ADMIN);
    assert_eq!(camera(&admin, "hall")["private"]["by"], "ann");

    // Every switch is audited, with who and why.
    let on = audit(&admin, "privacy_on");
    assert!(
        on.contains(&(
            "den".into(),
            "schedule".into(),
            "by its privacy schedule".into()
        )),
        "{on:?}"
    );
    for cam in ["den", "hall"] {
        assert!(
            on.contains(&(
                cam.into(),
                "ann".into(),
                "switched with its group indoor".into()
            )),
            "{on:?}"
        );
    }
    let off = audit(&admin, "privacy_off");
    assert_eq!(
        off,
        vec![("den".into(), "admin".into(), "switched by hand".into())]
    );

    // The den's timeline shows both periods as private, not as gaps.
    let page = admin.get("/cameras/den").text();
    let periods = page
        .split("<ul hidden id=\"privacy-data\">")
        .nth(1)
        .and_then(|p| p.split("</ul>").next())
        .unwrap_or_default();
    assert_eq!(periods.matches("<li ").count(), 2, "{periods}");
    assert!(
        periods.contains("begun by schedule, ended by admin"),
        "{periods}"
    );
    assert!(periods.contains("begun by ann"), "{periods}");
    nvr.stop();
}
