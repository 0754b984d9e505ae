//! A real browser (Debian's chromium, headless, through chromedriver) against a
//! running Hearth: login, the live wall, a camera's timeline (scrubbing, playback,
//! keys, exports), the events page, user administration, phone widths. Each
//! page's screenshot is kept in target/screenshots/.

mod common;

use common::webdriver::Browser;
use common::*;
use std::time::Duration;

/// Hearth recording one camera, front (`extra` in its table), from `/main` of
/// the RTSP server on `port`, with the web on a free port and ann allowed the
/// camera; and the web's address.
fn front_for_ann(port: u16, extra: &str) -> (Nvr, String) {
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"
        ),
        &[Cam {
            name: "front",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra,
        }],
    );
    nvr.add_user("ann", "viewer", "front", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    (nvr, url)
}

#[test]
fn chromium_logs_in_and_plays_a_recording() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (nvr, url) = front_for_ann(port, "");
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
    // Two live views ended: the wall's at login (its tile) and the camera page's.
    let stops = || {
        let (_, out) = nvr.cli(&["audit", "list", "--user", "ann"]);
        out.lines()
            .filter(|l| l.contains("live_stop\tfront"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || stops().len() == 2),
        "the end of the live view was not audited: {:?}",
        stops()
    );
    let stop = stops().pop().unwrap_or_default();
    let secs: u64 = stop
        .split("watched ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(secs >= 3 && secs <= watched + 2, "{stop}");
}

#[test]
fn playback_goes_on_through_what_was_recorded_since_and_then_live() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (_nvr, url) = front_for_ann(port, "");
    sleep_s(8);
    let b = Browser::start();
    assert!(b.log_in(&url, "ann", "ann-password-1"), "{}", b.url());
    b.goto(&format!("{url}cameras/front"));
    // The day's recording as the page was made, played at 8x ten seconds later:
    // playback goes on with what was recorded since, and having caught up, it
    // is live.
    let loaded_to =
        b.script("return +[...document.querySelectorAll('#span-data li')].pop().dataset.to / 1000");
    b.script("const s = document.getElementById('speed'); s.value = '8'; s.dispatchEvent(new Event('change'))");
    sleep_s(10);
    b.click("ul.spans li:last-child button.play");
    let state = "const v = document.getElementById('player'); \
         return {src: v.currentSrc, at: +v.dataset.at, note: document.getElementById('message').textContent}";
    let mut past = false;
    let live = wait_until(Duration::from_secs(90), || {
        let s = b.script(state);
        past |= s["at"]
            .as_f64()
            .zip(loaded_to.as_f64())
            .is_some_and(|(at, to)| at > to + 1000.0);
        s["note"]
            .as_str()
            .unwrap_or_default()
            .contains("this is live")
    });
    let s = b.script(state);
    assert!(live, "never caught up: {s}");
    assert!(past, "played nothing recorded after the page was made: {s}");
    assert!(
        s["src"].as_str().unwrap_or_default().starts_with("blob:"),
        "{s}"
    );
}

#[test]
fn live_sound_plays_when_asked_for() {
    // GStreamer's camera with a 440 Hz tone in AAC beside the picture.
    let port = free_port();
    let _cam = gst_camera(port, None, &["--audio"]);
    let (nvr, url) = front_for_ann(port, "audio = true");
    sleep_s(4);
    let b = Browser::start();
    assert!(b.log_in(&url, "ann", "ann-password-1"), "{}", b.url());
    b.goto(&format!("{url}cameras/front"));
    // Live without sound first: no audio is decoded.
    b.click("#live");
    let state = "const v = document.getElementById('player'); \
         return {t: v.currentTime, muted: v.muted, audio: v.webkitAudioDecodedByteCount, \
         err: v.error && v.error.message, note: document.getElementById('note')?.textContent}";
    assert!(
        wait_until(Duration::from_secs(30), || b.script(state)["t"]
            .as_f64()
            .is_some_and(|t| t > 2.0)),
        "live view did not play: {}",
        b.script(state)
    );
    assert_eq!(b.script(state)["audio"], 0, "{}", b.script(state));
    // Sound on: the live view starts again with the camera's sound, unmuted.
    b.click("#sound");
    let heard = wait_until(Duration::from_secs(30), || {
        let s = b.script(state);
        s["t"].as_f64().is_some_and(|t| t > 2.0) && s["audio"].as_i64().is_some_and(|n| n > 0)
    });
    let s = b.script(state);
    assert!(heard, "no sound: {s}");
    assert_eq!(s["muted"], false, "{s}");
    assert_eq!(
        b.script("return document.getElementById('sound').getAttribute('aria-pressed')"),
        "true"
    );
    b.screenshot(&screenshots().join("camera-sound.png"));
    let (_, audit) = nvr.cli(&["audit", "list", "--user", "ann"]);
    assert!(audit.contains("main stream with sound"), "{audit}");
}

/// Where each page's screenshot is kept for review.
fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Waits until every tile's video has played past `t` seconds; the seconds it took.
fn all_tiles_play(b: &Browser, t: f64) -> Option<f64> {
    let t0 = std::time::Instant::now();
    wait_until(Duration::from_secs(40), || {
        b.script(&format!(
            "const v = [...document.querySelectorAll('.tile video')]; \
             return v.length > 0 && v.every(v => v.currentTime > {t})"
        ))
        .as_bool()
        .unwrap_or(false)
    })
    .then(|| t0.elapsed().as_secs_f64())
}

#[test]
fn the_live_wall_plays_every_camera_in_the_household_time_zone() {
    let (p1, p2) = (free_port(), free_port());
    let _cams = (fake_camera(p1, None), fake_camera(p2, None));
    let web = free_port();
    // A zone no test machine is in: UTC+13:45 in summer, +12:45 in winter.
    let zone_name = "Pacific/Chatham";
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\n\
             tls = \"off\"\ntimezone = \"{zone_name}\"\n"
        ),
        &[
            Cam {
                name: "front",
                url: format!("rtsp://127.0.0.1:{p1}/main"),
                auth: None,
                extra: &format!("sub_url = \"rtsp://127.0.0.1:{p1}/sub\"\n"),
            },
            Cam {
                name: "garden",
                url: format!("rtsp://127.0.0.1:{p2}/main"),
                auth: None,
                extra: "",
            },
        ],
    );
    nvr.add_user("ann", "viewer", "front,garden", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    sleep_s(8);
    let shots = screenshots();

    let b = Browser::start();
    assert!(b.log_in(&url, "ann", "ann-password-1"), "{}", b.url());
    let tiles =
        b.script("return [...document.querySelectorAll('.tile')].map(t => t.dataset.camera)");
    assert_eq!(tiles, serde_json::json!(["front", "garden"]));
    let took = all_tiles_play(&b, 0.5);
    b.screenshot(&shots.join("wall.png"));
    let state = b.script(
        "return [...document.querySelectorAll('.tile')].map(t => ({cam: t.dataset.camera, \
         t: t.querySelector('video').currentTime, note: t.querySelector('.tile-note').textContent, \
         badge: t.querySelector('.badge') && t.querySelector('.badge').textContent}))",
    );
    let took = took.unwrap_or_else(|| panic!("not every tile played: {state}"));
    println!("live wall, 2 tiles: every tile moving {took:.2} s after the page opened");
    for t in state.as_array().expect("tiles") {
        assert!(
            t["badge"].as_str().unwrap_or_default().starts_with("live"),
            "{state}"
        );
    }
    // Each tile's live view is audited, with the stream it shows: the sub
    // stream where there is one.
    let (_, audit) = nvr.cli(&["audit", "list", "--user", "ann"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("live_start\tfront") && l.contains("sub stream")),
        "{audit}"
    );
    assert!(
        audit
            .lines()
            .any(|l| l.contains("live_start\tgarden") && l.contains("main stream")),
        "{audit}"
    );
    // One tile at a time: the other tile is hidden and stops streaming.
    b.click("button[data-layout='1']");
    assert!(
        wait_until(Duration::from_secs(10), || {
            b.script(
                "const t = [...document.querySelectorAll('.tile')]; \
                 return t[0].hidden === false && t[1].hidden === true && \
                 !t[1].querySelector('video').src",
            )
            .as_bool()
            .unwrap_or(false)
        }),
        "layout 1 did not hide and stop the second tile"
    );
    b.click("button[data-layout='4']");
    // Enter on a tile opens the camera.
    b.script("document.querySelector('.tile').focus()");
    let tile = b.find(".tile[data-camera='front']");
    b.cmd_keys(&tile, "\u{E007}");
    assert!(
        wait_until(Duration::from_secs(10), || b.url()
            == format!("{url}cameras/front")),
        "{}",
        b.url()
    );

    // The camera page speaks the household's time: the first recording's start
    // as the zone's clock shows it.
    let zone = hearth::local_time::Zone::named(zone_name).expect("zone");
    let first = nvr
        .segments()
        .into_iter()
        .filter(|s| s.camera == "front" && s.stream == "main")
        .map(|s| s.start_us)
        .min()
        .expect("a recording");
    let label = b.script("return document.querySelector('.spans button').textContent");
    assert!(
        label
            .as_str()
            .unwrap_or_default()
            .starts_with(&zone.time(first)),
        "{label} should start at {}",
        zone.time(first)
    );
    let note = b.script("return document.getElementById('zone').textContent");
    assert!(
        note.as_str().unwrap_or_default().contains(zone_name),
        "{note}"
    );
    // A range picked on the zone's clock plays from that instant.
    let at = first + 2_000_000;
    b.script(&format!(
        "document.getElementById('from').value = '{}'; \
         document.getElementById('to').value = '{}'; \
         document.getElementById('range').requestSubmit()",
        zone.time(at),
        zone.time(at + 60_000_000)
    ));
    let want = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(at / 1_000_000 * 1_000_000)
        .expect("time")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut src = serde_json::Value::Null;
    let playing = wait_until(Duration::from_secs(10), || {
        src = b.script("return document.getElementById('player').src");
        src.as_str()
            .unwrap_or_default()
            .contains(&format!("from={want}"))
    });
    assert!(playing, "{src} should play from {want}");
    b.screenshot(&shots.join("camera.png"));

    // At phone width no page scrolls sideways.
    b.resize(390, 844);
    for page in ["", "cameras/front", "events", "audit", "account"] {
        b.goto(&format!("{url}{page}"));
        let w = b.script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
        );
        let name = if page.is_empty() { "wall" } else { page };
        b.screenshot(&shots.join(format!("phone-{}.png", name.replace('/', "-"))));
        assert!(
            w[0].as_i64() <= w[1].as_i64(),
            "{page} scrolls sideways at 390 px: {w}"
        );
    }
}

#[test]
fn a_browser_without_media_source_plays_hls_and_one_without_hls_gets_stills() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (nvr, url) = front_for_ann(port, "");
    sleep_s(6);
    let b = Browser::start();
    // As a browser with neither MediaSource nor ManagedMediaSource that plays
    // HLS itself (Debian's chromium does, as Safari on older iPhones).
    b.before_scripts("delete window.MediaSource; delete window.ManagedMediaSource;");
    assert!(b.log_in(&url, "ann", "ann-password-1"), "{}", b.url());
    let played = all_tiles_play(&b, 1.0);
    let state = b.script(
        "const v = document.querySelector('.tile video'); \
         return {t: v.currentTime, src: v.currentSrc, err: v.error && v.error.message}",
    );
    assert!(played.is_some(), "HLS did not play: {state}");
    assert!(
        state["src"]
            .as_str()
            .unwrap_or_default()
            .contains("/live.m3u8"),
        "{state}"
    );
    b.screenshot(&screenshots().join("wall-hls.png"));

    // And one that cannot play HLS either: a still every two seconds.
    b.before_scripts("HTMLMediaElement.prototype.canPlayType = () => '';");
    b.goto(&url);
    let mut srcs = std::collections::BTreeSet::new();
    let refreshed = wait_until(Duration::from_secs(30), || {
        let s = b.script(
            "const i = document.querySelector('.tile .still'); \
             return !i.hidden && i.complete && i.naturalWidth > 0 ? i.src : null",
        );
        if let Some(s) = s.as_str() {
            srcs.insert(s.to_owned());
        }
        srcs.len() >= 2
    });
    b.screenshot(&screenshots().join("wall-stills.png"));
    let note = b.script("return document.querySelector('.tile-note').textContent");
    assert!(refreshed, "no refreshing still: {srcs:?} {note}");
    assert!(
        note.as_str().unwrap_or_default().contains("still"),
        "{note}"
    );
    let (_, audit) = nvr.cli(&["audit", "list", "--user", "ann"]);
    let count = |what: &str| audit.lines().filter(|l| l.contains(what)).count();
    assert_eq!(count("live_still\tfront"), 1, "{audit}");
    assert_eq!(count("live_start\tfront"), 1, "{audit}");
    assert!(audit.contains("main stream over HLS"), "{audit}");
}

#[test]
fn events_arrive_by_themselves_play_and_are_marked_reviewed() {
    let port = free_port();
    // 12 s still, 8 s of shapes moving, looped: an event every 20 s.
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"
        ),
        &[Cam {
            name: "porch",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: "",
        }],
    );
    nvr.add_user("ann", "viewer", "porch", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    let b = Browser::start();
    b.before_scripts(
        "window.errors = []; \
         addEventListener('error', e => errors.push(String(e.message))); \
         addEventListener('unhandledrejection', e => errors.push(String(e.reason)));",
    );
    assert!(b.log_in(&url, "ann", "ann-password-1"), "{}", b.url());
    b.goto(&format!("{url}events"));
    let before = b.script("return document.querySelectorAll('.event[data-id]').length");
    // An event ends and its card, with its thumbnail, appears without a reload.
    let arrived = wait_until(Duration::from_secs(90), || {
        b.script(
            "const e = document.querySelector('.event[data-id]'); \
             const i = e && e.querySelector('img'); \
             return Boolean(i && i.complete && i.naturalWidth > 0)",
        )
        .as_bool()
        .unwrap_or(false)
    });
    b.screenshot(&screenshots().join("events.png"));
    let page = b.script("return [window.errors, document.getElementById('events').outerHTML]");
    assert!(
        arrived,
        "no event arrived (before: {before}): {page}\n{}",
        nvr.log_text()
    );
    assert_eq!(
        before,
        serde_json::json!(0),
        "the page was not empty to start with"
    );
    let id = b.script("return document.querySelector('.event[data-id]').dataset.id");
    // A click plays it, pre-roll included.
    b.click(".event[data-id]");
    let played = wait_until(Duration::from_secs(30), || {
        b.script("return document.getElementById('player').currentTime")
            .as_f64()
            .is_some_and(|t| t > 1.0)
    });
    assert!(played, "the event did not play");
    // Reviewed, and still so after a reload.
    b.click(".event[data-id] .review");
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return document.querySelector('.event[data-id]').classList.contains('reviewed')")
            .as_bool()
            .unwrap_or(false)
    }));
    b.goto(&format!("{url}events"));
    let kept = b.script(&format!(
        "const e = document.querySelector('.event[data-id=\"{}\"]'); return e && e.classList.contains('reviewed')",
        id.as_str().unwrap_or_default()
    ));
    assert_eq!(kept, serde_json::json!(true));
    // The stream ends with the session: after a logout it closes for good.
    b.script(
        "window.es = new EventSource('/api/events/stream'); \
         window.es.onopen = () => { window.opened = true; };",
    );
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return window.opened === true")
            .as_bool()
            .unwrap_or(false)
    }));
    b.script(
        "fetch('/api/logout', {method: 'POST', headers: {'x-csrf-token': \
         document.querySelector('meta[name=csrf-token]').content}})",
    );
    let closed = wait_until(Duration::from_secs(20), || {
        b.script("return window.es.readyState").as_i64() == Some(2)
    });
    assert!(closed, "the event stream outlived the session");
}

#[test]
fn dragging_the_timeline_shows_stills_and_letting_go_plays_that_moment() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\ntimezone = \"Europe/Berlin\"\n"
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
    sleep_s(16);
    let b = Browser::start();
    assert!(b.log_in(&url, "ann", "ann-password-1"), "{}", b.url());
    b.goto(&format!("{url}cameras/front"));
    // Zoomed in from the whole day to a minute around the latest recording.
    for _ in 0..8 {
        b.click("#zoom-in");
    }
    let zoom = b.script("return document.getElementById('zoom-level').textContent");
    assert_eq!(zoom, serde_json::json!("1 min"));
    let first = nvr
        .segments()
        .into_iter()
        .filter(|s| s.camera == "front" && s.stream == "main")
        .map(|s| s.start_us)
        .min()
        .expect("a recording");
    // A moment 6 s into the first recording, where it is on the canvas.
    let moment_ms = (first + 6_000_000) as f64 / 1000.0;
    let x_of = |ms: f64| {
        b.script(&format!(
            "const c = document.getElementById('timeline'); \
             const [v0, span] = c.dataset.view.split(',').map(Number); \
             return Math.round(({ms} - v0) / span * c.clientWidth - c.clientWidth / 2)"
        ))
        .as_i64()
        .expect("x")
    };
    // Zooming keeps the latest recording where it was in the day's view, so
    // near midnight it sits at the view's edge: pan until the drag is in view.
    let half = b
        .script("return Math.floor(document.getElementById('timeline').clientWidth / 2)")
        .as_i64()
        .expect("width");
    for _ in 0..4 {
        if x_of(moment_ms - 3000.0) < -half {
            b.click("#pan-back");
        } else if x_of(moment_ms) > half {
            b.click("#pan-on");
        } else {
            break;
        }
    }
    let (x0, x1) = (x_of(moment_ms - 3000.0), x_of(moment_ms));
    let canvas = b.find("#timeline");
    b.pointer(
        &canvas,
        &[(x0, "down"), ((x0 + x1) / 2, "move"), (x1, "move")],
    );
    let shown = wait_until(Duration::from_secs(10), || {
        b.script(
            "const i = document.getElementById('scrub'); \
             return !i.hidden && i.complete && i.naturalWidth > 0",
        )
        .as_bool()
        .unwrap_or(false)
    });
    b.screenshot(&screenshots().join("camera-scrub.png"));
    assert!(
        shown,
        "no still while dragging from {x0} to {x1} px of the middle (moment {moment_ms}): {}",
        b.script(
            "const i = document.getElementById('scrub'); \
             return JSON.stringify({view: document.getElementById('timeline').dataset.view, \
               width: document.getElementById('timeline').clientWidth, \
               hidden: i.hidden, src: i.src, w: i.naturalWidth})"
        )
    );
    let label = b.script("return document.getElementById('position').textContent");
    b.pointer(&canvas, &[(x1, "up")]);
    // Letting go plays from that moment: the video's wall time is within 2 s of it.
    let mut at = serde_json::Value::Null;
    let played = wait_until(Duration::from_secs(20), || {
        at = b.script(
            "const v = document.getElementById('player'); \
             return v.readyState >= 2 && !v.seeking && !v.paused && v.dataset.at ? +v.dataset.at : null",
        );
        !at.is_null()
    });
    assert!(played, "letting go did not play");
    let at = at.as_f64().unwrap_or_default();
    assert!(
        (at - moment_ms).abs() <= 2000.0,
        "played from {at}, let go at {moment_ms} ({label})"
    );
    // Space pauses; the arrow keys move 10 s.
    b.cmd_keys(&canvas, " ");
    assert!(wait_until(Duration::from_secs(5), || b
        .script("return document.getElementById('player').paused")
        .as_bool()
        .unwrap_or(false)));
    let t = |b: &Browser| {
        b.script("return document.getElementById('player').currentTime")
            .as_f64()
            .unwrap_or_default()
    };
    let before = t(&b);
    b.cmd_keys(&canvas, "\u{E014}"); // ArrowRight
    assert!(wait_until(Duration::from_secs(5), || (t(&b)
        - before
        - 10.0)
        .abs()
        < 0.5));
    b.screenshot(&screenshots().join("camera-playing.png"));
    let zone = hearth::local_time::Zone::named("Europe/Berlin").expect("zone");
    let zone_time = |us: i64| zone.time(us);
    // An export of ten seconds from the first recording, written on the server:
    // listed with its size, then it plays from the server and is deleted.
    b.script(&format!(
        "document.getElementById('from').value = '{}'; \
         document.getElementById('to').value = '{}'; \
         document.getElementById('export').click()",
        zone_time(first + 1_000_000),
        zone_time(first + 11_000_000)
    ));
    let ready = wait_until(Duration::from_secs(30), || {
        b.script("return document.querySelector('.export.ready a') !== null")
            .as_bool()
            .unwrap_or(false)
    });
    b.script("document.getElementById('exports').scrollIntoView()");
    b.screenshot(&screenshots().join("camera-export.png"));
    let listed = b.script("return document.getElementById('exports').innerText");
    assert!(ready, "the export did not complete: {listed}");
    assert!(
        listed.as_str().unwrap_or_default().contains("MB"),
        "{listed}"
    );
    b.script(
        "const v = document.getElementById('player'); \
         v.src = document.querySelector('.export.ready a').href; v.play()",
    );
    assert!(
        wait_until(Duration::from_secs(20), || t(&b) > 2.0),
        "the exported file does not play"
    );
    let exports = nvr.dir.path().join("data/exports");
    let files = || std::fs::read_dir(&exports).map_or(0, |d| d.count());
    assert_eq!(files(), 1);
    b.click(".export.ready button");
    assert!(wait_until(Duration::from_secs(10), || files() == 0
        && b.script(
            "return document.querySelectorAll('.export').length"
        ) == serde_json::json!(0)));
    // The stills are footage: in the audit log once, under ann's name.
    let (_, audit) = nvr.cli(&["audit", "list", "--user", "ann"]);
    let stills = audit
        .lines()
        .filter(|l| l.contains("recorded_still\tfront"))
        .count();
    assert_eq!(stills, 1, "{audit}");
    for (what, n) in [
        ("export\tfront", 1),
        ("export_download\tfront", 1),
        ("export_delete\tfront", 1),
    ] {
        let found = audit.lines().filter(|l| l.contains(what)).count();
        assert_eq!(found, n, "{what}: {audit}");
    }
    assert!(audit.contains("kept on the server"), "{audit}");
}

#[test]
fn an_admin_adds_a_viewer_who_then_sees_only_their_camera() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let url_of = || format!("rtsp://127.0.0.1:{port}/main");
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"4s\"\nmin_free = \"1MB\"\n\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"
        ),
        &[
            Cam {
                name: "porch",
                url: url_of(),
                auth: None,
                extra: "",
            },
            Cam {
                name: "yard",
                url: url_of(),
                auth: None,
                extra: "",
            },
        ],
    );
    nvr.add_user("root", "admin", "", "root-password-1");
    nvr.start();
    let url = nvr.web_url();
    sleep_s(8);
    let b = Browser::start();
    assert!(b.log_in(&url, "root", "root-password-1"), "{}", b.url());
    b.goto(&format!("{url}users"));
    b.type_into("#add-user input[name=name]", "sam");
    b.type_into("#add-user input[name=password]", "sam-password-1");
    b.click("#add-user input[value=porch]");
    b.click("#add-user button[type=submit]");
    let added = wait_until(Duration::from_secs(10), || {
        b.script("return document.querySelector('li[data-user=sam]') !== null")
            .as_bool()
            .unwrap_or(false)
    });
    b.screenshot(&screenshots().join("users.png"));
    assert!(added, "{}", b.script("return document.body.innerText"));
    let shown = b.script("return document.querySelector('li[data-user=sam]').innerText");
    assert!(
        shown.as_str().unwrap_or_default().contains("porch"),
        "{shown}"
    );
    // A name taken is refused in words, beside the form.
    b.type_into("#add-user input[name=name]", "sam");
    b.type_into("#add-user input[name=password]", "sam-password-2");
    b.click("#add-user button[type=submit]");
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return document.querySelector('#add-user .error').textContent")
            .as_str()
            .unwrap_or_default()
            .contains("exists")
    }));

    // Sam, in a session of his own, sees porch and nothing of yard anywhere.
    let mut sam = common::http::Client::new(&url);
    assert_eq!(sam.login("sam", "sam-password-1").status, 200);
    let cams = sam.get("/api/cameras").json();
    let names: Vec<_> = cams
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["porch"], "{cams}");
    let wall = sam.get("/").text();
    assert!(wall.contains("porch") && !wall.contains("yard"), "{wall}");
    let events = sam.get("/events").text();
    assert!(!events.contains("yard"), "{events}");
    assert_eq!(sam.get("/cameras/yard").status, 404);
    let range = "from=2026-01-01T00:00:00Z&to=2026-01-01T00:10:00Z";
    assert_eq!(
        sam.post(
            "/api/cameras/yard/exports",
            serde_json::json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:10:00Z"})
        )
        .status,
        404
    );
    assert_eq!(
        sam.get(&format!("/api/cameras/yard/range?{range}")).status,
        404
    );

    // The admin ends Sam's session from the page: Sam is logged out.
    b.goto(&format!("{url}users"));
    b.script("window.confirm = () => true");
    b.click("li[data-user=sam] button[data-post*='/sessions/']");
    assert!(
        wait_until(Duration::from_secs(10), || sam.get("/api/cameras").status
            == 401),
        "the session outlived its end"
    );
    // The page reloads to show it gone (only then is the next click on the page
    // that stays).
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return document.readyState === 'complete' && document.querySelector(\"li[data-user=sam] button[data-post*='/sessions/']\") === null")
            .as_bool()
            .unwrap_or(false)
    }));
    // Removing sam, after a confirmation.
    b.script("window.confirm = () => true");
    b.click("li[data-user=sam] button[data-delete]");
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return document.querySelector('li[data-user=sam]') === null")
            .as_bool()
            .unwrap_or(false)
    }));
    // The last admin cannot remove their own role.
    b.script(
        "const f = document.querySelector('li[data-user=root] form'); \
         f.querySelector('select').value = 'viewer'; f.requestSubmit()",
    );
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return document.querySelector('li[data-user=root] form .error').textContent")
            .as_str()
            .unwrap_or_default()
            .contains("at least one admin")
    }));
    // The system page: both cameras' streams connected, this process's figures,
    // refreshed in place.
    b.goto(&format!("{url}system"));
    b.screenshot(&screenshots().join("system.png"));
    let text = b.script("return document.querySelector('main').innerText");
    let text = text.as_str().unwrap_or_default();
    for want in [
        "porch",
        "yard",
        "connected",
        "% of one core",
        "Retention deletes next",
    ] {
        assert!(text.contains(want), "{want} missing: {text}");
    }
    b.script("document.querySelector('[data-k=cpu]').textContent = 'stale'");
    assert!(wait_until(Duration::from_secs(10), || {
        b.script("return document.querySelector('[data-k=cpu]').textContent")
            .as_str()
            .unwrap_or_default()
            .contains('%')
    }));
    b.resize(390, 844);
    for page in ["users", "system", "audit"] {
        b.goto(&format!("{url}{page}"));
        let w = b.script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
        );
        b.screenshot(&screenshots().join(format!("phone-{page}.png")));
        assert!(
            w[0].as_i64() <= w[1].as_i64(),
            "/{page} scrolls sideways at 390 px: {w}"
        );
    }
    let (_, audit) = nvr.cli(&["audit", "list", "--user", "root"]);
    for what in ["user_add", "session_end", "user_remove"] {
        assert!(audit.contains(&format!("\t{what}\t")), "{what}: {audit}");
    }
}
