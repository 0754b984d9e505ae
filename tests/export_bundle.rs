//! Exports that prove themselves: a bundle from the web and one from the CLI
//! play like any MP4, `hearth verify-export` passes them against the key the
//! System page shows, and fails them after one byte of the video or of the
//! manifest is changed, or against another key.

mod common;

use common::http::Client;
use common::*;
use std::path::Path;
use std::process::Command;

fn verify_export(file: &Path, key: &str) -> (bool, String) {
    let out = Command::new(HEARTH)
        .args(["verify-export", "--key", key])
        .arg(file)
        .output()
        .expect("hearth verify-export");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn bundles_verify_against_the_installation_key_and_fail_after_any_change() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::one(
        &format!(
            "segment_duration = \"2s\"\nmin_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        "den",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.add_user("ann", "admin", "", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    sleep_s(9);
    let segs: Vec<_> = nvr
        .segments()
        .into_iter()
        .filter(|s| s.state == hearth::store::SegmentState::Complete)
        .collect();
    assert!(segs.len() >= 2);
    let (from, to) = (segs[0].start_us, segs[segs.len() - 1].end_us());
    let mut c = Client::new(&url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);

    // The installation's public key, as the System page shows it.
    let page = c.get("/system").text();
    let key = page
        .split("id=\"signing-key\"")
        .nth(1)
        .and_then(|s| s.split_once('>'))
        .and_then(|(_, s)| s.split('<').next())
        .expect("the signing key on the System page")
        .to_owned();
    assert_eq!(key.len(), 44, "{key}");

    // From the web: a bundle kept on the server.
    let made = c.post(
        "/api/cameras/den/exports",
        serde_json::json!({"from": rfc3339(from), "to": rfc3339(to), "bundle": true}),
    );
    assert_eq!(made.status, 201, "{}", made.text());
    let id = made.json()["id"].as_i64().expect("id");
    let mut file = None;
    assert!(wait_until(std::time::Duration::from_secs(30), || {
        let list = c.get("/api/exports?camera=den").json();
        file = list
            .as_array()
            .and_then(|l| l.iter().find(|e| e["id"] == id))
            .filter(|e| e["state"] == "ready")
            .and_then(|e| e["file"].as_str().map(str::to_owned));
        file.is_some()
    }));
    let got = c.get(&file.expect("ready"));
    assert_eq!(got.status, 200);
    let from_web = nvr.dir.path().join("web-bundle.mp4");
    std::fs::write(&from_web, &got.body).expect("write");
    let (ok, out) = verify_export(&from_web, &key);
    assert!(ok, "{out}");
    assert!(
        out.contains("camera den") && out.contains("signed bundle"),
        "{out}"
    );
    assert!(out.contains("audit entry #"), "{out}");
    nvr.stop();

    // From the CLI: it plays like the plain export, frame for frame.
    let plain = nvr.export("den", from, to);
    let frames = assert_decodes(&plain);
    let bundle = nvr.dir.path().join("cli-bundle.mp4");
    let (ok, out) = nvr.cli(&[
        "export",
        "--camera",
        "den",
        "--from",
        &rfc3339(from),
        "--to",
        &rfc3339(to),
        "--bundle",
        "-o",
        bundle.to_str().expect("path"),
    ]);
    assert!(ok, "{out}");
    assert_eq!(
        assert_decodes(&bundle),
        frames,
        "the bundle plays whole and clean"
    );
    let plain_bytes = std::fs::read(&plain).expect("plain");
    let bundle_bytes = std::fs::read(&bundle).expect("bundle");
    assert!(
        bundle_bytes.starts_with(&plain_bytes),
        "the video is the export's"
    );
    let (ok, out) = verify_export(&bundle, &key);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{} segment files", segs.len())),
        "{out}"
    );

    // One byte of the video changed.
    let mut bad = bundle_bytes.clone();
    bad[plain_bytes.len() / 2] ^= 0x01;
    let edited = nvr.dir.path().join("edited.mp4");
    std::fs::write(&edited, &bad).expect("write");
    let (ok, out) = verify_export(&edited, &key);
    assert!(!ok && out.contains("video was changed"), "{out}");
    // One byte of the manifest changed.
    let mut bad = bundle_bytes.clone();
    let at = plain_bytes.len()
        + bundle_bytes[plain_bytes.len()..]
            .windows(11)
            .position(|w| w == b"\"camera\":\"d")
            .expect("the manifest names the camera")
        + 10;
    bad[at] = b'D';
    std::fs::write(&edited, &bad).expect("write");
    let (ok, out) = verify_export(&edited, &key);
    assert!(!ok && out.contains("signature does not match"), "{out}");
    // Another installation's key.
    let (ok, out) = verify_export(&bundle, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert!(!ok && out.contains("not by the key given"), "{out}");
    // A plain export is no bundle.
    let (ok, out) = verify_export(&plain, &key);
    assert!(!ok && out.contains("no proof"), "{out}");
}
