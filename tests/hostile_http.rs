//! What an attacker on the LAN tries against the web server: cross-site requests
//! over every HTTP version (login CSRF over HTTP/2), half-open connections
//! (slowloris), parallel password guesses, floods of refused logins.

mod common;

use common::curl::curl;
use common::site::*;
use common::*;
use std::time::Duration;

/// The form login with good credentials, posted as a page on `origin` would.
fn form_login(url: &str, version: &str, origin: &str) -> common::curl::CurlReply {
    curl(
        &format!("{url}/login"),
        &[
            version,
            "-H",
            &format!("Origin: {origin}"),
            "--data",
            &format!("username={}&password={}", ANN.0, ANN.1),
        ],
    )
}

#[test]
fn cross_site_requests_are_refused_over_http1_h2c_and_tls_h2() {
    let plain = site("tls = \"off\"", 0);
    let tls = site("", 0);
    let own = |url: &str| url.trim_end_matches('/').to_owned();
    for (s, version, want) in [
        (&plain, "--http1.1", "1.1"),
        (&plain, "--http2-prior-knowledge", "2"),
        (&tls, "--http2", "2"),
        (&tls, "--http1.1", "1.1"),
    ] {
        let url = own(&s.url);
        let evil = form_login(&url, version, "https://evil.example");
        assert_eq!(evil.version, want, "{version}: {}", evil.head);
        assert_eq!(evil.status, 403, "{version}: login CSRF: {}", evil.head);
        assert!(!evil.head.contains("set-cookie"), "{version}: a session");
        // The same host on another port or scheme is another site too.
        let other_port = url
            .rsplit_once(':')
            .map(|(h, _)| format!("{h}:1"))
            .unwrap_or_default();
        let r = form_login(&url, version, &other_port);
        assert_eq!(r.status, 403, "{version} {other_port}: {}", r.head);
        let ours = form_login(&url, version, &url);
        assert_eq!(ours.status, 303, "{version}: our own page: {}", ours.head);
        assert!(ours.head.contains("set-cookie"));
        // The JSON API and the live WebSocket: the same check.
        let api = curl(
            &format!("{url}/api/login"),
            &[
                version,
                "-H",
                "Origin: https://evil.example",
                "-H",
                "Content-Type: application/json",
                "--data",
                &serde_json::json!({"username": ANN.0, "password": ANN.1}).to_string(),
            ],
        );
        assert_eq!(api.status, 403, "{version}: API login CSRF: {}", api.head);
        if version == "--http1.1" {
            let ws = curl(
                &format!("{url}/api/cameras/front/live"),
                &[
                    version,
                    "-H",
                    "Origin: https://evil.example",
                    "-H",
                    "Connection: Upgrade",
                    "-H",
                    "Upgrade: websocket",
                    "-H",
                    "Sec-WebSocket-Version: 13",
                    "-H",
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                ],
            );
            assert_eq!(ws.status, 403, "cross-site WebSocket");
        }
    }
    // Pages and API answers are never cached; with TLS, browsers are told to keep to it.
    let url = own(&tls.url);
    let page = curl(&format!("{url}/login"), &["--http2"]);
    assert!(
        page.head.contains("cache-control: no-store"),
        "{}",
        page.head
    );
    assert!(
        page.head.contains("strict-transport-security: max-age="),
        "{}",
        page.head
    );
    let api = curl(&format!("{url}/api/cameras"), &["--http2"]);
    assert_eq!(api.status, 401);
    assert!(api.head.contains("cache-control: no-store"), "{}", api.head);
    let plain_page = curl(&format!("{}/login", own(&plain.url)), &["--http1.1"]);
    assert!(!plain_page.head.contains("strict-transport-security"));
}

/// Opens a connection from `source` (another loopback address than the user's)
/// and sends half a request head.
fn half_open(source: &str, to: std::net::SocketAddr) -> Option<socket2::Socket> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    let from: std::net::SocketAddr = format!("{source}:0").parse().ok()?;
    s.bind(&from.into()).ok()?;
    s.connect_timeout(&to.into(), Duration::from_secs(5)).ok()?;
    let _ = s.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    Some(s)
}

/// Whether the server closed a (non-blocking) connection; what it sent first is read away.
fn closed(c: &socket2::Socket) -> bool {
    let mut b = [std::mem::MaybeUninit::new(0u8); 512];
    match c.recv(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

#[test]
fn half_open_connections_do_not_starve_users_or_recording() {
    let s = site("tls = \"off\"", 4);
    let addr: std::net::SocketAddr = s
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("address");
    let before = s.nvr.segments().len();
    // A few hundred half-open connections from one address.
    let held: Vec<_> = (0..300)
        .filter_map(|_| half_open("127.0.0.2", addr))
        .collect();
    assert!(held.len() > 250, "only {} connections opened", held.len());
    // Most are refused at once: one address may not hold more than its share.
    sleep_s(1);
    for c in &held {
        c.set_nonblocking(true).expect("nonblocking");
    }
    let open = held.iter().filter(|c| !closed(c)).count();
    assert!(open <= 64, "{open} half-open connections held");
    // A user on another address is served meanwhile.
    let ann = logged_in(&s, ANN);
    assert_eq!(ann.get("/").status, 200);
    assert_eq!(ann.get("/api/cameras").status, 200);
    // The rest are closed once the header-read timeout passes.
    let all_closed = wait_until(Duration::from_secs(30), || held.iter().all(closed));
    assert!(all_closed, "half-open connections are still held");
    // Recording went on without a gap.
    sleep_s(2);
    let segs: Vec<_> = s
        .nvr
        .segments()
        .into_iter()
        .filter(|g| g.camera == "front" && g.stream == "main")
        .collect();
    assert!(
        s.nvr.segments().len() > before,
        "nothing recorded meanwhile"
    );
    for w in segs.windows(2) {
        let gap = w[1].start_us - w[0].end_us();
        assert!(
            gap.abs() <= 1,
            "recording gap of {gap} µs during the attack"
        );
    }
}

fn guess(url: &str, name: &str) -> u16 {
    common::http::Client::new(url)
        .post(
            "/api/login",
            serde_json::json!({"username": name, "password": "a-wrong-guess"}),
        )
        .status
}

#[test]
fn parallel_guesses_are_limited_and_a_flood_of_refusals_is_a_few_audit_rows() {
    let mut s = site("tls = \"off\"", 0);
    // 50 guesses at once: only the allowed number are verified, the rest refused unverified.
    let url = s.url.clone();
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..50).map(|_| sc.spawn(|| guess(&url, ANN.0))).collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let verified = statuses.iter().filter(|&&c| c == 401).count();
    let limited = statuses.iter().filter(|&&c| c == 429).count();
    assert!(
        verified <= 5,
        "{verified} guesses were verified: {statuses:?}"
    );
    assert_eq!(verified + limited, 50, "{statuses:?}");
    // Ten thousand more: the audit log gets a handful of rows, not one per guess.
    let c = common::http::Client::new(&s.url);
    for _ in 0..10_000 {
        let r = c.post(
            "/api/login",
            serde_json::json!({"username": ANN.0, "password": "a-wrong-guess"}),
        );
        assert_eq!(r.status, 429);
    }
    s.nvr.stop();
    let db = rusqlite::Connection::open(s.nvr.data().join("hearth.db")).expect("db");
    let rows: Vec<(String, String)> = db
        .prepare("SELECT user, coalesce(detail, '') FROM audit WHERE action = 'login_failed'")
        .and_then(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()
        })
        .expect("audit rows");
    assert!(rows.len() <= 5, "{} rows: {rows:?}", rows.len());
    assert!(
        rows.iter()
            .any(|(u, d)| u == "ann" && d == "10049 more refused logins"),
        "no summary with the count: {rows:?}"
    );
    let (ok, out) = s.nvr.cli(&["audit", "verify"]);
    assert!(ok, "{out}");
}

/// A login attempt from a chosen loopback address (curl binds it).
fn login_from(source: &str, url: &str, who: (&str, &str)) -> u16 {
    curl(
        &format!("{}/api/login", url.trim_end_matches('/')),
        &[
            "--interface",
            source,
            "-H",
            "Content-Type: application/json",
            "--data",
            &serde_json::json!({"username": who.0, "password": who.1}).to_string(),
        ],
    )
    .status
}

#[test]
fn a_stranger_guessing_a_name_does_not_lock_its_owner_out() {
    let s = site("tls = \"off\"", 0);
    // Ann has logged in from her usual address (127.0.0.1) before.
    assert_eq!(login_from("127.0.0.1", &s.url, ANN), 200);
    for _ in 0..10 {
        login_from("127.0.0.2", &s.url, (ANN.0, "a-wrong-guess"));
        login_from("127.0.0.3", &s.url, (BOB.0, "a-wrong-guess"));
    }
    assert_eq!(
        login_from("127.0.0.2", &s.url, ANN),
        429,
        "the stranger is locked out"
    );
    assert_eq!(
        login_from("127.0.0.1", &s.url, ANN),
        200,
        "the owner is not"
    );
    // From an address it never logged in from, the name's own limit holds.
    assert_eq!(login_from("127.0.0.1", &s.url, BOB), 429);
}
