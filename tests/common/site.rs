//! A running Hearth with a web server for the web tests: two recorded cameras
//! (front, back), an admin and two viewers, and helpers to log them in.

#![allow(dead_code)]

use super::http::Client;
use super::*;

pub const ADMIN: (&str, &str) = ("boss", "boss-password-1");
pub const ANN: (&str, &str) = ("ann", "ann-password-1"); // may view front
pub const BOB: (&str, &str) = ("bob", "bob-password-1"); // may view back

pub struct Site {
    pub _cam: Proc,
    pub nvr: Nvr,
    pub url: String,
}

/// Hearth recording two cameras (front, back) for a few seconds, serving the web
/// on a free port, with an admin and two viewers.
pub fn site(server_extra: &str, record_secs: u64) -> Site {
    let port = free_port();
    let cam = fake_camera(port, None);
    let web = free_port();
    let cams = [
        Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/front/main"),
            auth: None,
            extra: "",
        },
        Cam {
            name: "back",
            url: format!("rtsp://127.0.0.1:{port}/back/sub"),
            auth: None,
            extra: "",
        },
    ];
    let storage = format!(
        "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\n{server_extra}\n"
    );
    let mut nvr = Nvr::new(&storage, &cams);
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.add_user(ANN.0, "viewer", "front", ANN.1);
    nvr.add_user(BOB.0, "viewer", "back", BOB.1);
    nvr.start();
    let url = nvr.web_url();
    sleep_s(record_secs);
    Site {
        _cam: cam,
        nvr,
        url,
    }
}

pub fn logged_in(s: &Site, who: (&str, &str)) -> Client {
    Client::logged_in(&s.url, who)
}

/// A range of recorded footage of `camera`, RFC 3339, as a query string.
pub fn recorded_range(s: &Site, camera: &str) -> String {
    let admin = logged_in(s, ADMIN);
    let r = admin.get(&format!(
        "/api/cameras/{camera}/recordings?from=2000-01-01T00:00:00Z&to=2000-01-02T01:00:00Z"
    ));
    assert_eq!(r.status, 400, "more than 24 hours is refused: {}", r.text());
    let now = chrono::Utc::now();
    let from =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = admin.get(&format!(
        "/api/cameras/{camera}/recordings?from={from}&to={to}"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let segs = r.json();
    let first = segs[0]["start"].as_str().expect("a recording").to_owned();
    let last = segs.as_array().and_then(|a| a.last()).expect("recordings")["end"]
        .as_str()
        .expect("end")
        .to_owned();
    format!("from={first}&to={last}")
}
