//! A real browser (Debian's chromium, headless, through chromedriver) logs in on the
//! login page and plays a recorded range in the camera page's <video>.

mod common;

use common::webdriver::Browser;
use common::*;
use std::time::Duration;

#[test]
fn chromium_logs_in_and_plays_a_recording() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"
        ),
        &[Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: "",
        }],
    );
    nvr.add_user("ann", "viewer", "front", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    sleep_s(12);

    let b = Browser::start();
    let shot = nvr.dir.path().join("page.png");
    b.goto(&format!("{url}login"));
    b.type_into("input[name=username]", "ann");
    b.type_into("input[name=password]", "ann-password-1");
    b.click("form button[type=submit]");
    let landed = wait_until(Duration::from_secs(20), || b.url() == url);
    b.screenshot(&shot);
    assert!(
        landed,
        "login did not land on the camera list: {} {} (screenshot {})",
        b.url(),
        b.script("return document.body.innerText"),
        shot.display()
    );
    let title = b.script("return document.querySelector('h1').textContent");
    assert_eq!(title, "Cameras");
    b.goto(&format!("{url}cameras/front"));
    b.click("button.play");
    let played = wait_until(Duration::from_secs(30), || {
        b.script("return document.getElementById('player').currentTime")
            .as_f64()
            .is_some_and(|t| t > 2.0)
    });
    b.screenshot(&shot);
    // HEARTH_TEST_SCREENSHOTS=DIR keeps a picture of the camera page to look at.
    if let Ok(dir) = std::env::var("HEARTH_TEST_SCREENSHOTS") {
        b.screenshot(&std::path::Path::new(&dir).join("camera-page.png"));
    }
    let state = b.script(
        "const v = document.getElementById('player'); \
         return {t: v.currentTime, err: v.error && v.error.message, ready: v.readyState, src: v.currentSrc}",
    );
    assert!(
        played,
        "the video did not play: {state} (screenshot {})",
        shot.display()
    );
    assert!(state["err"].is_null(), "{state}");
    assert!(
        state["src"]
            .as_str()
            .unwrap_or_default()
            .contains("/api/cameras/front/view.mp4"),
        "{state}"
    );
    // Live view: starts at once from the kept GOP, and keeps going.
    b.click("#live");
    let t0 = std::time::Instant::now();
    let live = wait_until(Duration::from_secs(30), || {
        b.script("return document.getElementById('player').currentTime")
            .as_f64()
            .is_some_and(|t| t > 3.0)
    });
    let state = b.script(
        "const v = document.getElementById('player'); \
         return {t: v.currentTime, err: v.error && v.error.message, src: v.currentSrc}",
    );
    assert!(live, "live view did not play: {state}");
    assert!(
        state["src"]
            .as_str()
            .unwrap_or_default()
            .starts_with("blob:"),
        "{state}"
    );
    b.goto(&format!("{url}audit"));
    let watched = t0.elapsed().as_secs();
    // The browser's playback and live view are in the audit log under ann's name.
    let (ok, out) = nvr.cli(&["audit", "list", "--user", "ann"]);
    assert!(ok && out.contains("playback\tfront"), "{out}");
    assert!(out.contains("live_start\tfront"), "{out}");
    assert!(
        wait_until(Duration::from_secs(10), || {
            nvr.cli(&["audit", "list", "--user", "ann"])
                .1
                .contains("live_stop\tfront")
        }),
        "the end of the live view was not audited"
    );
    let (_, out) = nvr.cli(&["audit", "list", "--user", "ann"]);
    let stop = out
        .lines()
        .find(|l| l.contains("live_stop"))
        .unwrap_or_default();
    let secs: u64 = stop
        .split("watched ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(secs >= 3 && secs <= watched + 2, "{stop}");
}
