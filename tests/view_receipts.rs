//! Viewing receipts end to end: a viewer sees the admin's playback and live
//! view of a camera they share (and nothing of a camera they do not), and a
//! camera with `notify_on_view` announces each view once, through a real ntfy
//! and webhook receiver on loopback, while a camera without it announces none.

mod common;

use common::http::Client;
use common::http_receiver::{Received, Receiver};
use common::*;
use std::time::{Duration, Instant};
use tungstenite::Message;

const ADMIN: (&str, &str) = ("admin", "admin-password-1");
const ANN: (&str, &str) = ("ann", "ann-password-12");

/// A range of `camera`'s recording, as a query.
fn recorded(c: &Client, camera: &str) -> String {
    let now = now_us();
    let r = c.get(&format!(
        "/api/cameras/{camera}/recordings?from={}&to={}",
        query_time(now - 3_600_000_000),
        query_time(now + 60_000_000)
    ));
    let list = r.json();
    let first = &list[0];
    let (a, b) = (
        first["start_us"].as_i64().expect("a recording"),
        first["end_us"].as_i64().expect("a recording"),
    );
    format!("from={}&to={}", query_time(a), query_time(b))
}

#[test]
fn a_viewer_sees_the_admins_views_and_each_view_is_announced_once() {
    let receiver = Receiver::start(200);
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let top = format!(
        "segment_duration = \"2s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\n\
         tls = \"off\"\n\n[[webhooks]]\nurl = \"{}\"\nsecret = \"webhook-secret-0123\"\n\n\
         [[push]]\nservice = \"ntfy\"\nurl = \"{}\"\n",
        receiver.url("/hook"),
        receiver.url("/hearth-views"),
    );
    let quiet = "[cameras.motion]\nenabled = false";
    let den_extra = format!("notify_on_view = true\n{quiet}");
    let mut nvr = Nvr::new(
        &top,
        &[
            Cam {
                name: "den",
                url: format!("rtsp://127.0.0.1:{port}/den/main"),
                auth: None,
                extra: &den_extra,
            },
            Cam {
                name: "yard",
                url: format!("rtsp://127.0.0.1:{port}/yard/main"),
                auth: None,
                extra: quiet,
            },
        ],
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.add_user(ANN.0, "viewer", "den", ANN.1);
    nvr.start();
    let base = nvr.web_url();
    assert!(
        wait_until(Duration::from_secs(60), || {
            ["den", "yard"]
                .iter()
                .all(|c| camera_segments(&nvr, c).len() >= 2)
        }),
        "no recordings: {}",
        nvr.log_text()
    );
    let admin = Client::logged_in(&base, ADMIN);

    // The admin plays a range of each camera, in several Range requests as a
    // player does: one view each.
    for cam in ["den", "yard"] {
        let q = recorded(&admin, cam);
        for range in ["bytes=0-999", "bytes=1000-", "bytes=0-"] {
            let r = admin.get_with(
                &format!("/api/cameras/{cam}/view.mp4?{q}"),
                &[("range", range)],
            );
            assert!(r.status == 206 || r.status == 200, "{cam}: {}", r.status);
        }
    }
    // And watches the den live for a moment.
    let cookie = admin.cookie.clone().expect("cookie");
    let mut ws = live_ws::handshake(&base, &cookie, "den", "").expect("live view");
    let (mut video, end) = (0, Instant::now() + Duration::from_secs(30));
    while video < 3 && Instant::now() < end {
        if let Ok(Message::Binary(_)) = ws.read() {
            video += 1;
        }
    }
    assert_eq!(video, 3, "no live video");
    let _ = ws.close(None);
    drop(ws);

    // The viewer sees both of the den's views, with the live view's length,
    // and nothing of the yard.
    let ann = Client::logged_in(&base, ANN);
    let mut said = Vec::new();
    assert!(
        wait_until(Duration::from_secs(20), || {
            said = ann
                .get("/api/views")
                .json()
                .as_array()
                .cloned()
                .unwrap_or_default();
            said.iter().any(|r| {
                r["sentence"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("admin watched den live for "))
            })
        }),
        "{said:?}"
    );
    let sentences: Vec<&str> = said.iter().filter_map(|r| r["sentence"].as_str()).collect();
    assert!(
        sentences
            .iter()
            .any(|s| s.starts_with("admin played den's recording of ")),
        "{sentences:?}"
    );
    assert!(said.iter().all(|r| r["camera"] == "den"), "{said:?}");
    assert_eq!(
        sentences.len(),
        2,
        "one receipt per view, the live view's start and end as one: {sentences:?}"
    );
    assert_eq!(ann.get("/api/views?camera=yard").status, 404);
    let page = ann.get("/views").text();
    assert!(page.contains("admin watched den live for"), "{page}");
    // The admin sees the yard's too.
    let all = admin.get("/api/views").json();
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().any(|r| r["camera"] == "yard")),
        "{all}"
    );

    // One announcement per view of the den, through each channel; none of the yard.
    let on = |path: &str| -> Vec<Received> {
        receiver
            .seen()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(20), || on("/hearth-views").len() >= 2
            && on("/hook").len() >= 2),
        "announcements: {:?}",
        receiver.seen().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    // Time for any extra one (the live view's end, the yard's views) to show up.
    sleep_s(3);
    let pushes: Vec<String> = on("/hearth-views")
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    assert!(
        pushes[0].starts_with("admin played den's recording of "),
        "{pushes:?}"
    );
    assert_eq!(pushes[1], "admin is watching den live");
    let hooks: Vec<serde_json::Value> = on("/hook").iter().map(Received::json).collect();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    assert!(
        hooks
            .iter()
            .all(|h| h["event_type"] == "view" && h["camera"] == "den" && h["user"] == "admin"),
        "{hooks:?}"
    );
    assert_eq!(hooks[0]["action"], "playback");
    assert_eq!(hooks[1]["action"], "live_start");
    assert!(
        receiver
            .seen()
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("yard")),
        "the yard announced a view"
    );
    nvr.stop();
}
