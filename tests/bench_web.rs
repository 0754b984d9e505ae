//! The web benchmark (ignored by `cargo test`; `scripts/bench-web.sh` runs it):
//! nine simulated cameras with sub streams, Debian's chromium and real live
//! clients. Prints the time from opening the live wall to each tile's first
//! moving picture with 4 and 9 tiles, from a click on a recording to its
//! playing, the server's CPU per live viewer (WebSocket and HLS, sub and main
//! stream), and each page's weight. Figures only: nothing here is asserted
//! about speed.

mod common;

use common::http::Client;
use common::live_ws;
use common::webdriver::Browser;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const CAMERAS: usize = 9;
const ADMIN: (&str, &str) = ("boss", "boss-password-1");

/// Each tile's first `playing` event, in ms after the page's navigation began.
const FIRST_PICTURE: &str = "window.__first = {}; \
    document.addEventListener('playing', (e) => { \
      const t = e.target.closest && e.target.closest('.tile'); \
      if (t && !(t.dataset.camera in window.__first)) window.__first[t.dataset.camera] = performance.now(); \
    }, true); \
    document.addEventListener('click', (e) => { window.__clicked = performance.now(); }, true); \
    document.addEventListener('playing', (e) => { \
      if (e.target.id === 'player' && window.__clicked && !window.__played) window.__played = performance.now(); \
    }, true);";

fn wall_figures(b: &Browser, url: &str, layout: usize) {
    let mut worst = Vec::new();
    let mut all = Vec::new();
    for _ in 0..3 {
        b.script(&format!(
            "localStorage.setItem('hearth.wall.layout', '{layout}')"
        ));
        b.goto(url);
        let done = wait_until(Duration::from_secs(60), || {
            b.script("return Object.keys(window.__first || {}).length")
                .as_u64()
                .is_some_and(|n| n >= layout as u64)
        });
        assert!(
            done,
            "not every tile played: {}",
            b.script("return window.__first")
        );
        let times: Vec<f64> = b
            .script("return Object.values(window.__first)")
            .as_array()
            .expect("times")
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        worst.push(times.iter().copied().fold(0.0, f64::max));
        all.extend(times);
    }
    println!(
        "live wall, {layout} tiles: first moving picture per tile after {:.0} ms median, \
         {:.0} ms for the last tile (median of 3 loads), {:.0}-{:.0} ms in all",
        median(&mut all.clone()),
        median(&mut worst),
        all.iter().copied().fold(f64::MAX, f64::min),
        all.iter().copied().fold(0.0, f64::max)
    );
}

fn click_to_play(b: &Browser, url: &str) {
    let mut took = Vec::new();
    for _ in 0..3 {
        b.goto(&format!("{url}cameras/cam1"));
        b.click("ul.spans li:last-child button.play");
        let played = wait_until(Duration::from_secs(30), || {
            b.script("return window.__played || null")
                .as_f64()
                .is_some()
        });
        assert!(played, "the recording did not play");
        took.push(
            b.script("return window.__played - window.__clicked")
                .as_f64()
                .unwrap_or(f64::NAN),
        );
    }
    println!(
        "camera page: click on a recording to its playing {:.0} ms (median of 3; {took:.0?})",
        median(&mut took)
    );
}

fn page_weights(b: &Browser, url: &str) {
    println!("page weight (bytes as served, uncompressed: HTML + CSS + JS = all):");
    for page in [
        "",
        "cameras/cam1",
        "events",
        "audit",
        "account",
        "users",
        "system",
    ] {
        b.goto(&format!("{url}{page}"));
        wait_until(Duration::from_secs(10), || {
            b.script("return document.readyState") == "complete"
        });
        sleep_s(1);
        let w = b.script(
            "const nav = performance.getEntriesByType('navigation')[0]; \
             const of = (ext) => performance.getEntriesByType('resource') \
               .filter((r) => new URL(r.name).pathname.endsWith(ext)) \
               .reduce((n, r) => n + r.decodedBodySize, 0); \
             return {html: nav.decodedBodySize, css: of('.css'), js: of('.js')}",
        );
        let n = |k: &str| w[k].as_u64().unwrap_or(0);
        println!(
            "  /{page:<13} {:>6} + {:>5} + {:>6} = {:>6}",
            n("html"),
            n("css"),
            n("js"),
            n("html") + n("css") + n("js")
        );
    }
}

/// The server's CPU per viewer: `n` viewers of `what` against none.
fn per_viewer(pid: i32, base: f64, n: usize, what: &str, open: impl FnOnce() -> Box<dyn FnOnce()>) {
    let close = open();
    sleep_s(3);
    let with = cpu_over(pid, 20);
    close();
    println!(
        "server CPU with {n} {what} viewers: {with:.1}% of a core, {:.2}% per viewer over the {base:.1}% recording alone",
        (with - base) / n as f64
    );
    sleep_s(3);
}

/// `n` WebSocket live viewers of cam1..camN's `stream`, reading until closed.
fn websocket_viewers(s: &str, cookie: &str, n: usize, stream: &str) -> Box<dyn FnOnce()> {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (1..=n)
        .map(|i| {
            let mut ws =
                live_ws::handshake(s, cookie, &format!("cam{i}"), &format!("?stream={stream}"))
                    .expect("live view");
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = ws.read();
                }
            })
        })
        .collect();
    Box::new(move || {
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }
    })
}

/// `n` HLS viewers (ffmpeg's HLS client, copying to nowhere) of cam1..camN's `stream`.
fn hls_viewers(s: &str, cookie: &str, n: usize, stream: &str) -> Box<dyn FnOnce()> {
    let procs: Vec<Proc> = (1..=n)
        .map(|i| {
            let child = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-headers"])
                .arg(format!("Cookie: {cookie}\r\n"))
                .arg("-i")
                .arg(format!("{s}api/cameras/cam{i}/live.m3u8?stream={stream}"))
                .args(["-c", "copy", "-f", "null", "-"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("ffmpeg");
            Proc::new(child, "ffmpeg")
        })
        .collect();
    Box::new(move || drop(procs))
}

#[test]
#[ignore = "a benchmark: scripts/bench-web.sh"]
fn web_figures() {
    println!();
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let names: Vec<String> = (1..=CAMERAS).map(|i| format!("cam{i}")).collect();
    let urls: Vec<String> = (1..=CAMERAS)
        .map(|i| format!("rtsp://127.0.0.1:{port}/c{i}/main"))
        .collect();
    // Motion detection off: the figures are the web's, beside recording alone
    // (of both streams, so both are there to watch).
    let extras: Vec<String> = (1..=CAMERAS)
        .map(|i| {
            format!(
                "sub_url = \"rtsp://127.0.0.1:{port}/c{i}/sub\"\nrecord_sub = true\n[cameras.motion]\nenabled = false"
            )
        })
        .collect();
    let cams: Vec<Cam> = (0..CAMERAS)
        .map(|i| Cam {
            name: &names[i],
            url: urls[i].clone(),
            auth: None,
            extra: &extras[i],
        })
        .collect();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"60s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"
        ),
        &cams,
    );
    nvr.add_user(ADMIN.0, "admin", "", ADMIN.1);
    nvr.start();
    let url = nvr.web_url();
    sleep_s(15);
    let pid = nvr.proc.as_ref().expect("running").pid();

    let b = Browser::start();
    // A desktop's window: the wall streams only the tiles on screen, and the
    // headless default (800 x 600) leaves the 3 x 3 layout's last row below it.
    b.resize(1600, 1000);
    b.before_scripts(FIRST_PICTURE);
    assert!(b.log_in(&url, ADMIN.0, ADMIN.1), "{}", b.url());
    wall_figures(&b, &url, 4);
    wall_figures(&b, &url, 9);
    click_to_play(&b, &url);
    page_weights(&b, &url);
    drop(b);

    sleep_s(5);
    let base = cpu_over(pid, 20);
    println!(
        "server CPU recording {CAMERAS} cameras (main + sub), no viewer: {base:.1}% of a core"
    );
    let mut c = Client::new(&url);
    assert_eq!(c.login(ADMIN.0, ADMIN.1).status, 200);
    let cookie = c.cookie.clone().expect("cookie");
    for stream in ["sub", "main"] {
        per_viewer(
            pid,
            base,
            CAMERAS,
            &format!("WebSocket {stream}-stream"),
            || websocket_viewers(&url, &cookie, CAMERAS, stream),
        );
    }
    per_viewer(pid, base, 4, "HLS sub-stream", || {
        hls_viewers(&url, &cookie, 4, "sub")
    });
    nvr.stop();
}
