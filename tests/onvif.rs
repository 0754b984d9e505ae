//! Finding cameras with ONVIF against simulated devices on loopback
//! (tests/support/onvif_device.py): a WS-Discovery probe finds them by
//! multicast, their profiles give the stream URLs with the right credentials
//! (a wrong password is said in words), a device naming another host for its
//! services is not followed, and the URL found connects.

mod common;

use common::http::Client;
use common::*;
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("boss", "boss-password-1");
const ONVIF_PW: &str = "onvif-secret-5";

fn streams(c: &Client, device: usize, password: &str) -> Value {
    let r = c.post(
        "/api/admin/onvif/streams",
        json!({"device": device, "username": "admin", "password": password}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[test]
fn cameras_on_the_network_are_found_and_their_stream_urls_read() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::one(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\n"
        ),
        "front",
        format!("rtsp://127.0.0.1:{port}/front/main"),
        None,
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.start();
    let main = format!("rtsp://127.0.0.1:{port}/porch/main");
    let sub = format!("rtsp://127.0.0.1:{port}/porch/sub");
    let (good_port, odd_port) = (free_port(), free_port());
    let _good = onvif_device(good_port, &main, &sub, ONVIF_PW, "127.0.0.1");
    // This one says its media service is on another host.
    let _odd = onvif_device(odd_port, &main, &sub, ONVIF_PW, "127.0.0.2");
    let mut admin = Client::new(&nvr.web_url());
    assert_eq!(admin.login(ADMIN.0, ADMIN.1).status, 200);

    // Only this machine's own addresses are searched from.
    let r = admin.post("/api/admin/onvif/discover", json!({"interface": "8.8.8.8"}));
    assert_eq!(r.status, 400, "{}", r.text());

    let r = admin.post(
        "/api/admin/onvif/discover",
        json!({"interface": "127.0.0.1"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let found = r.json();
    let devices = found["devices"].as_array().expect("devices").clone();
    assert_eq!(devices.len(), 2, "{found}");
    let at = |p: u16| {
        devices
            .iter()
            .position(|d| d["service"] == format!("http://127.0.0.1:{p}/onvif/device_service"))
            .unwrap_or_else(|| panic!("no device on {p}: {found}"))
    };
    let (good, odd) = (at(good_port), at(odd_port));
    assert_eq!(devices[good]["name"], "Porch Cam");
    assert_eq!(devices[good]["hardware"], "SIM-1");

    let no = streams(&admin, good, "wrong");
    assert_eq!(no["ok"], false);
    assert!(
        no["error"]
            .as_str()
            .is_some_and(|e| e.contains("user name or password")),
        "{no}"
    );

    let yes = streams(&admin, good, ONVIF_PW);
    assert_eq!(yes["ok"], true, "{yes}");
    let list = yes["streams"].as_array().expect("streams");
    assert_eq!(list.len(), 2, "{yes}");
    assert_eq!(
        list[0]["url"],
        main.as_str(),
        "the largest picture first: {yes}"
    );
    assert_eq!(list[0]["width"], 1280);
    assert_eq!(list[1]["url"], sub.as_str());

    let odd = streams(&admin, odd, ONVIF_PW);
    assert_eq!(odd["ok"], false);
    assert!(
        odd["error"]
            .as_str()
            .is_some_and(|e| e.contains("another host")),
        "{odd}"
    );
    assert_eq!(
        admin
            .post("/api/admin/onvif/streams", json!({"device": 9}))
            .status,
        400
    );

    // The URL found is one click from a camera: it connects.
    let t = admin.post("/api/admin/camera-test", json!({"url": list[0]["url"]}));
    assert_eq!(t.json()["ok"], true, "{}", t.text());
    nvr.stop();
}
