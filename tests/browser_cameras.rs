//! Camera settings in a real browser (Debian's chromium through chromedriver):
//! an admin adds a camera with the brand recipe and Test connection, draws a
//! mask on its picture, saves, and it records while the other camera records
//! on unbroken; a bad URL shows the camera's error; a hand edit made meanwhile
//! is refused; the motion preview shows what the detector sees.

mod common;

use common::webdriver::Browser;
use common::*;
use std::time::Duration;

fn text(b: &Browser, css: &str) -> String {
    b.script(&format!(
        "return document.querySelector({css:?})?.textContent ?? ''"
    ))
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Sets a field's value as typing would (input and change events).
fn set(b: &Browser, css: &str, value: &str) {
    b.script(&format!(
        "const e = document.querySelector({css:?}); e.value = {value:?}; \
         e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'))"
    ));
}

#[track_caller]
fn wait_text(b: &Browser, css: &str, want: &str) -> String {
    let mut last = String::new();
    let ok = wait_until(Duration::from_secs(30), || {
        last = text(b, css);
        last.contains(want)
    });
    assert!(ok, "{css} never said {want:?}: {last:?}");
    last
}

#[test]
fn an_admin_adds_a_camera_draws_a_mask_and_tunes_motion_in_the_browser() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"
        ),
        &[Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/front/main"),
            auth: None,
            extra: "",
        }],
    );
    let owners = std::fs::read_to_string(&nvr.config)
        .expect("config")
        .replace("[[cameras]]", "# the front door\n[[cameras]]");
    std::fs::write(&nvr.config, owners).expect("config");
    nvr.add_user("root", "admin", "", "root-password-1");
    nvr.start();
    let url = nvr.web_url();
    assert!(wait_until(Duration::from_secs(30), || indexed_frames(
        &nvr, "front"
    ) > 0));
    let b = Browser::start();
    assert!(b.log_in(&url, "root", "root-password-1"), "{}", b.url());
    b.goto(&format!("{url}camera-settings"));
    wait_text(&b, "#camera-list", "front");

    // A new camera from the brand recipe: the address fills both URLs.
    b.click("#add-camera");
    b.type_into("#editor input[name=name]", "yard");
    set(&b, "#brand", "TP-Link Tapo");
    set(&b, "#host", "127.0.0.1");
    let filled = b.script("return document.querySelector('#editor input[name=url]').value");
    assert_eq!(
        filled.as_str(),
        Some("rtsp://127.0.0.1:554/stream1"),
        "{filled}"
    );
    assert!(text(&b, "#brand-note").contains("Tapo app"));

    // A URL with nothing behind it: the camera's error in words.
    let closed = free_port();
    set(
        &b,
        "#editor input[name=url]",
        &format!("rtsp://127.0.0.1:{closed}/stream1"),
    );
    b.click("#test");
    wait_text(&b, "#test-result", "Failed");
    assert!(text(&b, "#test-result").to_lowercase().contains("refused"));

    // The real camera: codec, size and a still to draw on.
    set(
        &b,
        "#editor input[name=url]",
        &format!("rtsp://127.0.0.1:{port}/yard/main"),
    );
    set(&b, "#editor input[name=sub_url]", "");
    b.click("#test");
    let shown = wait_text(&b, "#test-result", "Connected");
    assert!(
        shown.contains("avc1") && shown.contains("1280×720"),
        "{shown}"
    );

    // A mask of three points clicked on the picture, one of them dragged.
    b.click("#add-mask");
    let canvas = b.find("#draw");
    b.pointer_at(&canvas, &[(-200, -100, "down"), (-200, -100, "up")]);
    b.pointer_at(&canvas, &[(100, -100, "down"), (100, -100, "up")]);
    b.pointer_at(&canvas, &[(0, 80, "down"), (0, 80, "up")]);
    b.pointer_at(
        &canvas,
        &[(0, 80, "down"), (0, 120, "move"), (0, 120, "up")],
    );
    assert!(
        text(&b, "#shape").contains("mask 1 (3 points)"),
        "{}",
        text(&b, "#shape")
    );
    b.screenshot(&screenshots().join("camera-settings.png"));
    let before = indexed_frames(&nvr, "front");
    b.click("#save");
    wait_text(&b, "#camera-list", "yard");
    assert!(
        wait_until(Duration::from_secs(30), || indexed_frames(&nvr, "yard") > 0),
        "the camera added in the browser does not record"
    );
    assert!(wait_until(Duration::from_secs(30), || indexed_frames(
        &nvr, "front"
    ) > before));

    // The file keeps the owner's comment and has the mask in its normalised form.
    let file = std::fs::read_to_string(&nvr.config).expect("config");
    assert!(file.contains("# the front door"), "{file}");
    let cfg: toml::Value = toml::from_str(&file).expect("toml");
    let yard = cfg["cameras"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"].as_str() == Some("yard")))
        .expect("yard in the file")
        .clone();
    let masks = yard["motion"]["masks"].as_array().expect("masks").clone();
    assert_eq!(masks.len(), 1, "{yard}");
    let points = masks[0].as_array().expect("points");
    assert_eq!(points.len(), 3, "{yard}");
    for p in points {
        let xy: Vec<f64> = p
            .as_array()
            .expect("point")
            .iter()
            .filter_map(toml::Value::as_float)
            .collect();
        assert!(
            xy.len() == 2 && xy.iter().all(|v| (0.0..=1.0).contains(v)),
            "{p}"
        );
    }
    // The dragged point went down: below the other two.
    let ys: Vec<f64> = points.iter().filter_map(|p| p[1].as_float()).collect();
    assert!(ys[2] > ys[0] && ys[2] > ys[1], "{ys:?}");

    // A hand edit while the form is open: the save is refused, the file is the owner's.
    b.click("li[data-camera=yard] button[data-role=edit]");
    wait_text(&b, "#editor-title", "Change yard");
    let hand = format!("{file}\n# a note made by hand\n");
    std::fs::write(&nvr.config, &hand).expect("hand edit");
    set(&b, "#editor select[name=record]", "motion");
    b.click("#save");
    wait_text(&b, "#editor-error", "changed");
    assert_eq!(std::fs::read_to_string(&nvr.config).expect("config"), hand);

    // The motion preview of front with the form's settings.
    b.click("#cancel");
    b.click("li[data-camera=front] button[data-role=edit]");
    wait_text(&b, "#editor-title", "Change front");
    b.click("#preview");
    wait_text(&b, "#preview-result", "moving area now");
    b.script("document.getElementById('draw').scrollIntoView()");
    b.screenshot(&screenshots().join("motion-preview.png"));
    b.click("#preview");

    nvr.stop();
    assert_unbroken(&nvr, "front");
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}
