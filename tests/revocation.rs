//! Long-lived responses end with their session: a live view (a real WebSocket
//! client) is cut within about a second of a logout, the user's removal, a
//! password change, a permission change that drops the camera, and idle or
//! absolute expiry; the `live_stop` audit entry says why.

mod common;

use common::http::Client;
use common::live_ws::{self, Live};
use common::site::*;
use common::*;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// Starts the WebSocket handshake for `camera`'s live view on `c`'s session.
fn handshake(s: &Site, c: &Client, camera: &str) -> Result<Live, tungstenite::Error> {
    live_ws::handshake(&s.url, &c.cookie.clone().expect("cookie"), camera, "")
}

/// Opens `camera`'s live view on `c`'s session and waits for video to flow.
fn open_live(s: &Site, c: &Client, camera: &str) -> Live {
    let mut ws = handshake(s, c, camera).expect("websocket handshake");
    let mut video = 0;
    let end = Instant::now() + Duration::from_secs(30);
    while video < 3 {
        assert!(Instant::now() < end, "no video on the live view");
        if let Ok(Message::Binary(_)) = ws.read() {
            video += 1;
        }
    }
    ws
}

/// Reads until the server closes the socket; the close reason. Panics if video
/// still flows after `limit`.
fn wait_closed(ws: &mut Live, limit: Duration) -> String {
    let end = Instant::now() + limit;
    loop {
        assert!(
            Instant::now() < end,
            "the live view still streams {limit:?} after the trigger"
        );
        match ws.read() {
            Ok(Message::Close(frame)) => {
                return frame.map(|f| f.reason.to_string()).unwrap_or_default();
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if timed_out(&e) => {}
            Err(e) => return format!("closed without a reason: {e}"),
        }
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// The `live_stop` entry of `user` that says `why`, as the admin sees it.
fn last_live_stop(s: &Site, user: &str, why: &str) -> String {
    let admin = logged_in(s, ADMIN);
    let mut detail = String::new();
    wait_until(Duration::from_secs(10), || {
        let log = admin.get("/api/audit?limit=10000").json();
        detail = log
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["action"] == "live_stop" && e["user"] == user)
            .filter_map(|e| e["detail"].as_str())
            .find(|d| d.contains(why))
            .unwrap_or_default()
            .to_owned();
        detail.contains(why)
    });
    detail
}

fn cli_ok(s: &Site, args: &[&str], stdin: Option<&str>) {
    use std::io::Write;
    let mut child = std::process::Command::new(HEARTH)
        .args(args)
        .arg("--config")
        .arg(&s.nvr.config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("hearth");
    if let (Some(mut i), Some(text)) = (child.stdin.take(), stdin) {
        let _ = writeln!(i, "{text}");
    }
    assert!(child.wait().expect("wait").success(), "hearth {args:?}");
}

/// The trigger ends the live view, which says why, and so does the audit log.
fn assert_cut(s: &Site, mut ws: Live, user: &str, trigger: impl FnOnce(), why: &str) {
    trigger();
    let reason = wait_closed(&mut ws, Duration::from_secs(10));
    assert!(reason.contains(why), "closed with {reason:?}, not {why:?}");
    let detail = last_live_stop(s, user, why);
    assert!(
        detail.contains(&format!("ended: {why}")),
        "live_stop says {detail:?}"
    );
}

#[test]
fn live_view_ends_with_logout_removal_password_and_permission_changes() {
    let s = site("tls = \"off\"", 2);

    let ann = logged_in(&s, ANN);
    let ws = open_live(&s, &ann, "front");
    assert_cut(
        &s,
        ws,
        "ann",
        || assert_eq!(ann.post("/api/logout", serde_json::json!({})).status, 200),
        "logged out",
    );

    let ann = logged_in(&s, ANN);
    let ws = open_live(&s, &ann, "front");
    assert_cut(
        &s,
        ws,
        "ann",
        || cli_ok(&s, &["user", "passwd", "ann"], Some("ann-password-2")),
        "password changed",
    );

    let bob = logged_in(&s, BOB);
    let ws = open_live(&s, &bob, "back");
    assert_cut(
        &s,
        ws,
        "bob",
        || {
            cli_ok(
                &s,
                &[
                    "user",
                    "edit",
                    "bob",
                    "--role",
                    "viewer",
                    "--cameras",
                    "front",
                ],
                None,
            )
        },
        "permissions changed",
    );

    let bob = logged_in(&s, BOB);
    let ws = open_live(&s, &bob, "front");
    assert_cut(
        &s,
        ws,
        "bob",
        || cli_ok(&s, &["user", "remove", "bob"], None),
        "user removed",
    );
}

#[test]
fn one_user_may_hold_only_so_many_live_views() {
    let s = site("tls = \"off\"", 2);
    let ann = logged_in(&s, ANN);
    let open: Vec<Live> = (0..16).map(|_| open_live(&s, &ann, "front")).collect();
    match handshake(&s, &ann, "front") {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        other => panic!("a 17th live view: {:?}", other.map(|_| "opened")),
    }
    // Another user is not held back by her views.
    let bob = logged_in(&s, BOB);
    drop(open_live(&s, &bob, "back"));
    drop(open);
}

#[test]
fn live_view_ends_when_the_session_expires() {
    let s = site(
        "tls = \"off\"\nsession_idle = \"3s\"\nsession_max = \"10s\"",
        2,
    );
    // Watching is not using the session: with nothing else, it goes idle.
    let ann = logged_in(&s, ANN);
    let ws = open_live(&s, &ann, "front");
    assert_cut(&s, ws, "ann", || {}, "idle too long");

    // Kept in use by requests, it still ends at the absolute limit.
    let bob = logged_in(&s, BOB);
    let mut ws = open_live(&s, &bob, "back");
    let born = Instant::now();
    let mut used = Instant::now();
    let reason = loop {
        assert!(born.elapsed() < Duration::from_secs(30), "never expired");
        if used.elapsed() > Duration::from_secs(1) {
            let _ = bob.get("/api/cameras");
            used = Instant::now();
        }
        match ws.read() {
            Ok(Message::Close(f)) => break f.map(|f| f.reason.to_string()).unwrap_or_default(),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if timed_out(&e) => {}
            Err(e) => panic!("closed without a reason: {e}"),
        }
    };
    assert!(reason.contains("session expired"), "{reason}");
    let detail = last_live_stop(&s, "bob", "session expired");
    assert!(detail.contains("ended: session expired"), "{detail}");
}
