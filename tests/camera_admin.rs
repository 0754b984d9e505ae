//! Cameras added, changed and removed by an admin through the web API while
//! Hearth records (Hearth's simulated camera, the real config file, index and
//! audit log): the file keeps its comments and never gets a password, a stale
//! or hand-edited file is refused, the other camera records on unbroken.

mod common;

use common::http::Client;
use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const ADMIN: (&str, &str) = ("boss", "boss-password-1");
const VIEWER: (&str, &str) = ("ann", "ann-password-1");
const SAM: (&str, &str) = ("sam", "sam-password-1");
const SECRET: &str = "yard-secret-9";

fn listing(c: &Client) -> Value {
    let r = c.get("/api/admin/cameras");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[test]
fn an_admin_adds_changes_and_removes_a_camera_and_the_file_stays_the_owners() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\n"
        ),
        &[Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/front/main"),
            auth: None,
            extra: "",
        }],
    );
    let text = std::fs::read_to_string(&nvr.config).expect("config");
    let text = text.replace("[[cameras]]", "# the front door, a Reolink\n[[cameras]]");
    std::fs::write(&nvr.config, text).expect("config");
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.add_user(VIEWER.0, "viewer", "front", VIEWER.1);
    nvr.add_user(SAM.0, "viewer", "", SAM.1);
    nvr.start();
    let url = nvr.web_url();
    let mut admin = Client::new(&url);
    assert_eq!(admin.login(ADMIN.0, ADMIN.1).status, 200);
    let mut viewer = Client::new(&url);
    assert_eq!(viewer.login(VIEWER.0, VIEWER.1).status, 200);
    assert!(wait_until(Duration::from_secs(30), || indexed_frames(
        &nvr, "front"
    ) > 0));

    // A viewer may not see or change the cameras' settings.
    assert_eq!(viewer.get("/api/admin/cameras").status, 403);
    let list = listing(&admin);
    let r = viewer.post(
        "/api/admin/cameras",
        json!({"version": list["version"], "camera": list["new_camera"]}),
    );
    assert_eq!(r.status, 403);

    // Added with a password: it records; the password is in a private file.
    let mut yard = list["new_camera"].clone();
    yard["name"] = json!("yard");
    yard["url"] = json!(format!("rtsp://127.0.0.1:{port}/yard/main"));
    yard["username"] = json!("admin");
    yard["password"] = json!(SECRET);
    let r = admin.post(
        "/api/admin/cameras",
        json!({"version": list["version"], "camera": yard}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["not_applied"], Value::Null, "{}", r.text());
    assert!(
        wait_until(Duration::from_secs(30), || indexed_frames(&nvr, "yard") > 0),
        "yard never recorded: {}",
        nvr.log_text()
    );
    let r = admin.post(
        "/api/users/sam/permissions",
        json!({"role": "viewer", "cameras": ["yard"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let file = std::fs::read_to_string(&nvr.config).expect("config");
    assert!(
        file.contains("# the front door, a Reolink\n[[cameras]]"),
        "{file}"
    );
    assert!(file.contains("password_file = \"yard.password\""), "{file}");
    assert!(!file.contains(SECRET));
    let pw = nvr.dir.path().join("yard.password");
    assert_eq!(
        std::fs::read_to_string(&pw).expect("password file"),
        format!("{SECRET}\n")
    );
    assert_eq!(
        std::fs::metadata(&pw).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    let list = listing(&admin);
    assert!(
        !list.to_string().contains(SECRET),
        "the password went back to the browser"
    );
    assert_eq!(list["cameras"][1]["has_password"], json!(true));

    // A change made against an old version is refused and changes nothing.
    let mut masked = list["cameras"][1].clone();
    masked["motion"]["masks"] = json!([[[0.0, 0.0], [0.5, 0.0], [0.5, 0.25]]]);
    let stale = admin.post(
        "/api/admin/cameras/yard",
        json!({"version": "0000", "camera": masked}),
    );
    assert_eq!(stale.status, 409, "{}", stale.text());
    // So is one made before someone edited the file by hand.
    let by_hand = format!(
        "{}\n# checked by hand\n",
        std::fs::read_to_string(&nvr.config).expect("config")
    );
    std::fs::write(&nvr.config, &by_hand).expect("hand edit");
    let r = admin.post(
        "/api/admin/cameras/yard",
        json!({"version": list["version"], "camera": masked}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("changed since it was read"),
        "{}",
        r.text()
    );
    assert_eq!(
        std::fs::read_to_string(&nvr.config).expect("config"),
        by_hand
    );

    // Drawn mask points land in the file, in the normalised form.
    let list = listing(&admin);
    let r = admin.post(
        "/api/admin/cameras/yard",
        json!({"version": list["version"], "camera": masked}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let file = std::fs::read_to_string(&nvr.config).expect("config");
    assert!(
        file.contains("masks = [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.25]]]"),
        "{file}"
    );
    assert!(file.contains("# checked by hand"), "{file}");
    assert_eq!(
        listing(&admin)["cameras"][1]["motion"]["masks"],
        masked["motion"]["masks"]
    );

    // A URL that is not RTSP is refused with the key named.
    let mut bad = listing(&admin)["cameras"][1].clone();
    bad["url"] = json!("http://127.0.0.1/yard");
    let r = admin.post(
        "/api/admin/cameras/yard",
        json!({"version": listing(&admin)["version"], "camera": bad}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("key `url`"), "{}", r.text());

    // Renamed: its recordings, events and viewers go with the new name.
    let yard_files: Vec<String> = nvr
        .segments()
        .into_iter()
        .filter(|s| s.camera == "yard")
        .map(|s| s.path)
        .collect();
    assert!(!yard_files.is_empty());
    let mut garden = listing(&admin)["cameras"][1].clone();
    garden["name"] = json!("garden");
    let r = admin.post(
        "/api/admin/cameras/yard",
        json!({"version": listing(&admin)["version"], "camera": garden}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        wait_until(Duration::from_secs(30), || indexed_frames(&nvr, "garden")
            > 0),
        "garden does not record"
    );
    let segs = nvr.segments();
    assert!(
        segs.iter().all(|s| s.camera != "yard"),
        "yard kept segments"
    );
    for f in &yard_files {
        assert!(
            segs.iter().any(|s| s.camera == "garden" && &s.path == f),
            "{f} did not follow the name"
        );
    }
    let mut sam = Client::new(&url);
    assert_eq!(sam.login(SAM.0, SAM.1).status, 200);
    let seen = sam.get("/api/cameras").text();
    assert!(seen.contains("garden") && !seen.contains("yard"), "{seen}");
    let file = std::fs::read_to_string(&nvr.config).expect("config");
    assert!(file.contains("name = \"garden\""), "{file}");

    // Removed, its recordings deleted now.
    let r = admin.post(
        "/api/admin/cameras/garden/remove",
        json!({"version": listing(&admin)["version"], "recordings": "delete"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(nvr.segments().iter().all(|s| s.camera != "garden"));
    assert!(
        !std::fs::read_to_string(&nvr.config)
            .expect("config")
            .contains("garden")
    );

    // Each change is audited with what changed, never the password.
    let log = admin.get("/api/audit?limit=10000").json();
    let entries: Vec<&Value> = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("camera_"))
        })
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "camera_add",
            "camera_change",
            "camera_change",
            "camera_remove"
        ],
        "{entries:?}"
    );
    assert!(
        entries[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("password: changed")
    );
    assert!(
        entries[1]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("motion.masks: [] → [[[0.0,0.0],[0.5,0.0],[0.5,0.25]]]"),
        "{:?}",
        entries[1]
    );
    assert_eq!(entries[2]["camera"], "garden");
    assert!(
        entries[2]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("name: \"yard\" → \"garden\""),
        "{:?}",
        entries[2]
    );
    assert!(
        entries[3]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("recordings deleted now")
    );
    assert!(!log.to_string().contains(SECRET));

    sleep_s(2);
    nvr.stop();
    assert_unbroken(&nvr, "front");
}
