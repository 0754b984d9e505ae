//! The web server end to end: real Hearth, real recordings, HTTP from outside.
//! Every route for every role; sessions (login, logout, expiry, revocation); CSRF;
//! rate limiting; the audit chain; playback bytes against the CLI export; hostile
//! requests; TLS.

mod common;

use common::http::Client;
use common::site::*;
use common::*;
use hearth::web::Access;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    ViewerWithout,
    ViewerWith,
    Admin,
}

/// What a role that the route's declared access refuses gets: pages send
/// strangers to the login page, the API answers 401; a camera the user may not
/// see is not found; an admin route is forbidden to others.
fn refusal(access: Access, who: Who, path: &str) -> Option<u16> {
    let page = !path.starts_with("/api/");
    let anonymous = if page { 303 } else { 401 };
    match (access, who) {
        (Access::Public, _) | (_, Who::Admin) => None,
        // These requests come from loopback: a local scrape needs no session,
        // and a session that is not an admin's is refused.
        (Access::AdminOrLoopback, Who::Anonymous) => None,
        (Access::AdminOrLoopback, _) => Some(403),
        (_, Who::Anonymous) => Some(anonymous),
        (Access::Camera, Who::ViewerWithout) => Some(404),
        (Access::Admin, _) => Some(403),
        _ => None,
    }
}

/// A second into the first recording of a `from=…&to=…` range.
fn moment_recorded(range: &str) -> String {
    let from = range
        .strip_prefix("from=")
        .and_then(|r| r.split('&').next())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("a range");
    (from + chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn every_route_answers_each_role_as_the_table_says() {
    let s = site("tls = \"off\"", 8);
    let range = recorded_range(&s, "front");
    // (method, path) → what the handler answers a role the route's access lets
    // in; who is refused, and how, comes from the route table itself. Logins use
    // good credentials (failures would trip the rate limiter); the password
    // change sends a wrong current password.
    let allowed: HashMap<(&str, &str), u16> = HashMap::from([
        (("GET", "/healthz"), 200),
        (("GET", "/static/{file}"), 200),
        (("GET", "/login"), 200),
        (("POST", "/login"), 303),
        // No such link.
        (("GET", "/login/once/{token}"), 401),
        (("GET", "/metrics"), 200),
        (("POST", "/api/login"), 200),
        (("POST", "/api/logout"), 200),
        (("POST", "/api/account/password"), 403),
        (("POST", "/api/account/totp/start"), 200),
        (("POST", "/api/account/totp/confirm"), 403),
        (("POST", "/api/account/totp/disable"), 403),
        (("GET", "/"), 200),
        (("GET", "/account"), 200),
        (("GET", "/audit"), 200),
        (("GET", "/cameras/{name}"), 200),
        (("GET", "/api/cameras"), 200),
        (("GET", "/api/cameras/{name}/recordings"), 200),
        (("GET", "/api/cameras/{name}/view.mp4"), 200),
        (("GET", "/api/cameras/{name}/export.mp4"), 200),
        // Without the WebSocket handshake: the permission first, then 400.
        (("GET", "/api/cameras/{name}/live"), 400),
        (("GET", "/api/cameras/{name}/live.jpg"), 200),
        (("GET", "/api/cameras/{name}/live.m3u8"), 200),
        // No such file.
        (("GET", "/api/cameras/{name}/hls/{stream}/{file}"), 404),
        (("GET", "/api/cameras/{name}/still.jpg"), 200),
        (("GET", "/api/cameras/{name}/range"), 200),
        (("GET", "/api/cameras/{name}/events"), 200),
        (("GET", "/api/cameras/{name}/activity"), 200),
        // No such event: the permission is checked first, the event after.
        (("GET", "/api/cameras/{name}/events/{id}/snapshot.jpg"), 404),
        (("GET", "/api/cameras/{name}/events/{id}/thumb.jpg"), 404),
        // The body lacks `private`: the permission first, then 422.
        (("POST", "/api/cameras/{name}/privacy"), 422),
        (("POST", "/api/privacy/groups/{group}"), 422),
        (("GET", "/views"), 200),
        (("GET", "/api/views"), 200),
        (("GET", "/events"), 200),
        (("GET", "/api/events"), 200),
        (("GET", "/api/events/stream"), 200),
        // The body lacks `reviewed`: the permission first, then 422.
        (("POST", "/api/cameras/{name}/events/{id}/reviewed"), 422),
        (("GET", "/api/exports"), 200),
        // The body names no range: the permission first, then 422.
        (("POST", "/api/cameras/{name}/exports"), 422),
        // No such export.
        (("GET", "/api/cameras/{name}/exports/{id}/file"), 404),
        (("DELETE", "/api/cameras/{name}/exports/{id}"), 404),
        (("GET", "/system"), 200),
        (("GET", "/api/system"), 200),
        (("GET", "/api/storage"), 200),
        (("GET", "/api/audit"), 200),
        (("POST", "/api/audit/verify"), 200),
        (("GET", "/users"), 200),
        (("GET", "/api/users"), 200),
        // The body names no user: the permission first, then 422.
        (("POST", "/api/users"), 422),
        (("POST", "/api/users/{name}/permissions"), 422),
        // No user named "front".
        (("POST", "/api/users/{name}/password"), 404),
        (("POST", "/api/users/{name}/sessions/{id}/end"), 404),
        (("DELETE", "/api/users/{name}"), 404),
        // No user named "front".
        (("POST", "/api/users/{name}/totp/reset"), 404),
        (("GET", "/camera-settings"), 200),
        (("GET", "/api/admin/cameras"), 200),
        // The body names no camera or version: the permission first, then 422.
        (("POST", "/api/admin/cameras"), 422),
        (("POST", "/api/admin/cameras/{name}"), 422),
        (("POST", "/api/admin/cameras/{name}/remove"), 422),
        (("POST", "/api/admin/camera-test"), 422),
        (("POST", "/api/admin/onvif/discover"), 422),
        (("POST", "/api/admin/onvif/streams"), 422),
        (("POST", "/api/admin/cameras/{name}/motion-preview"), 422),
        // The body lacks `on`: the permission first, then 422.
        (("POST", "/api/admin/cameras/{name}/recording"), 422),
    ]);
    let routes = hearth::web::routes();
    for (m, p, _, _) in &routes {
        assert!(
            allowed.contains_key(&(m.as_str(), *p)),
            "route {m} {p} is missing from this test's table"
        );
    }
    assert_eq!(
        routes.len(),
        allowed.len(),
        "the table names a route that is gone"
    );
    for (method, path, access, _) in &routes {
        let url = path
            .replace("{name}", "front")
            .replace("{file}", "app.js")
            .replace("{id}", "999999")
            .replace("{token}", "no-such-link")
            .replace("{stream}", "sub");
        let ranged = [".mp4", "/recordings", "/events", "/activity", "/range"];
        let url = if ranged.iter().any(|r| url.ends_with(r)) {
            format!("{url}?{range}")
        } else if url.ends_with("/still.jpg") {
            format!("{url}?at={}", moment_recorded(&range))
        } else {
            url
        };
        for who in [
            Who::Anonymous,
            Who::ViewerWithout,
            Who::ViewerWith,
            Who::Admin,
        ] {
            let expected =
                refusal(*access, who, path).unwrap_or_else(|| allowed[&(method.as_str(), *path)]);
            // A fresh session for each request, so a logout spoils nothing.
            let c = match who {
                Who::Anonymous => Client::new(&s.url),
                Who::ViewerWithout => logged_in(&s, BOB),
                Who::ViewerWith => logged_in(&s, ANN),
                Who::Admin => logged_in(&s, ADMIN),
            };
            if url.ends_with("/stream") {
                assert_eq!(c.stream_status(&url), expected, "{url} as {who:?}");
                continue;
            }
            let r = match method.as_str() {
                "GET" => c.get(&url),
                "DELETE" => c.delete(&url),
                _ if url == "/login" => c.post_raw(
                    &url,
                    "application/x-www-form-urlencoded",
                    format!("username={}&password={}", ANN.0, ANN.1).as_bytes(),
                    &[],
                ),
                _ if url == "/api/login" => c.post(
                    &url,
                    serde_json::json!({"username": ANN.0, "password": ANN.1}),
                ),
                _ => c.post(
                    &url,
                    serde_json::json!({"password": "wrong-password", "code": "abc",
                                       "current": "wrong-password", "new": "another-password-2"}),
                ),
            };
            assert_eq!(
                r.status,
                expected,
                "{method} {url} as {who:?} ({access:?}): {}",
                r.text().chars().take(200).collect::<String>()
            );
        }
    }
    drop(s);
}

#[test]
fn sessions_csrf_audit_playback_and_hostile_input() {
    let mut s = site("tls = \"off\"", 10);
    let range = recorded_range(&s, "front");

    // Login, logout: the cookie is dead afterwards.
    let c = logged_in(&s, ANN);
    assert_eq!(c.get("/api/cameras").status, 200);
    let cams = c.get("/api/cameras").json();
    assert_eq!(
        cams.as_array().map(Vec::len),
        Some(1),
        "ann sees only front: {cams}"
    );
    assert!(
        !cams.to_string().contains("rtsp://"),
        "camera URLs never leave the server"
    );
    assert_eq!(c.post("/api/logout", serde_json::json!({})).status, 200);
    assert_eq!(c.get("/api/cameras").status, 401);

    // CSRF: a state-changing request without the token, or with another, is refused.
    let mut c = logged_in(&s, ANN);
    let token = c.csrf.take();
    assert_eq!(c.post("/api/logout", serde_json::json!({})).status, 403);
    c.csrf = Some("forged".into());
    assert_eq!(c.post("/api/logout", serde_json::json!({})).status, 403);
    c.csrf = token;
    assert_eq!(c.get("/api/cameras").status, 200, "still logged in");
    // A login posted from another site is refused.
    let anon = Client::new(&s.url);
    let r = anon.post_raw(
        "/api/login",
        "application/json",
        serde_json::json!({"username": ANN.0, "password": ANN.1})
            .to_string()
            .as_bytes(),
        &[("origin", "https://evil.example")],
    );
    assert_eq!(r.status, 403);

    // Revocation: a password change (CLI) ends every session of the user.
    let a1 = logged_in(&s, BOB);
    let a2 = logged_in(&s, BOB);
    let out = std::process::Command::new(HEARTH)
        .args(["user", "passwd", "bob", "--config"])
        .arg(&s.nvr.config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut ch| {
            use std::io::Write;
            ch.stdin.take().map(|mut i| writeln!(i, "bob-password-2"));
            ch.wait()
        })
        .expect("passwd");
    assert!(out.success());
    assert_eq!(a1.get("/api/cameras").status, 401);
    assert_eq!(a2.get("/api/cameras").status, 401);
    assert_eq!(
        Client::new(&s.url).login(BOB.0, BOB.1).status,
        401,
        "old password"
    );
    assert_eq!(
        Client::new(&s.url).login(BOB.0, "bob-password-2").status,
        200
    );
    // Removal and permission changes end sessions too, and take effect at once.
    let b = logged_in(&s, ("bob", "bob-password-2"));
    let (ok, out) = s.nvr.cli(&[
        "user",
        "edit",
        "bob",
        "--role",
        "viewer",
        "--cameras",
        "front",
    ]);
    assert!(ok, "{out}");
    assert_eq!(b.get("/api/cameras").status, 401);
    let b = logged_in(&s, ("bob", "bob-password-2"));
    assert_eq!(b.get("/cameras/front").status, 200, "granted");
    assert_eq!(b.get("/cameras/back").status, 404, "taken away");
    let (ok, out) = s.nvr.cli(&["user", "remove", "bob"]);
    assert!(ok, "{out}");
    assert_eq!(b.get("/api/cameras").status, 401);
    // ...and so does the web's own password change, this session included.
    let c2 = logged_in(&s, ANN);
    let r = c2.post(
        "/api/account/password",
        serde_json::json!({"current": ANN.1, "new": "ann-password-2"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(c2.get("/api/cameras").status, 401);
    assert_eq!(c.get("/api/cameras").status, 401);
    let ann = ("ann", "ann-password-2");

    // Playback: the bytes of a range equal the CLI export of the same range.
    let viewer = logged_in(&s, ann);
    let full = viewer.get(&format!("/api/cameras/front/view.mp4?{range}"));
    assert_eq!(full.status, 200);
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    let q: HashMap<&str, &str> = range
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let out = s.nvr.dir.path().join("cli.mp4");
    let (ok, text) = s.nvr.cli(&[
        "export",
        "--camera",
        "front",
        "--from",
        q["from"],
        "--to",
        q["to"],
        "-o",
        out.to_str().expect("path"),
    ]);
    assert!(ok, "{text}");
    let exported = std::fs::read(&out).expect("export");
    assert!(full.body == exported, "playback and export differ");
    let part = viewer.get_with(
        &format!("/api/cameras/front/view.mp4?{range}"),
        &[("range", "bytes=1000-1999")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, exported[1000..2000]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 1000-1999/{}", exported.len()).as_str())
    );
    let tail = viewer.get_with(
        &format!("/api/cameras/front/view.mp4?{range}"),
        &[("range", "bytes=-100")],
    );
    assert_eq!(tail.body, exported[exported.len() - 100..]);
    let dl = viewer.get(&format!("/api/cameras/front/export.mp4?{range}"));
    assert_eq!(dl.status, 200);
    assert!(
        dl.header("content-disposition")
            .is_some_and(|v| v.starts_with("attachment"))
    );
    assert!(dl.body == exported);

    // Hostile input: a 4xx, never a file outside the data dir, never a crash.
    let admin = logged_in(&s, ADMIN);
    for (path, status) in [
        ("/static/../../../../etc/passwd", 404),
        ("/static/..%2f..%2fCargo.toml", 404),
        ("/static/%2e%2e%2f%2e%2e%2fsrc%2fmain.rs", 404),
        ("/cameras/..%2f..%2fetc%2fpasswd", 404),
        (
            "/api/cameras/..%2fhearth.db/view.mp4?from=2026-01-01T00:00:00Z&to=2026-01-01T00:01:00Z",
            404,
        ),
        (
            "/api/cameras/nosuch/view.mp4?from=2026-01-01T00:00:00Z&to=2026-01-01T00:01:00Z",
            404,
        ),
        ("/api/cameras/front/view.mp4?from=yesterday&to=now", 400),
        (
            "/api/cameras/front/view.mp4?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            400,
        ),
        (
            "/api/cameras/front/view.mp4?from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z",
            400,
        ),
        ("/api/cameras/front/view.mp4", 400),
        (
            "/api/cameras/front/view.mp4?from=2001-01-01T00:00:00Z&to=2001-01-01T00:01:00Z",
            404,
        ),
        (
            "/api/cameras/front/recordings?from=2026-01-01T00:00:00Z&to=2026-01-01T00:01:00Z&stream=../x",
            400,
        ),
        ("/cameras/front?day=2026-13-45", 400),
        ("/nonexistent", 404),
    ] {
        let r = admin.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(!r.text().contains("root:"), "{path} leaked a file");
    }
    for bad in [
        "bytes=99999999999-",
        "bytes=5-1",
        "bytes=0-1,5-6",
        "pages=1-2",
        "bytes=abc",
    ] {
        let r = admin.get_with(
            &format!("/api/cameras/front/view.mp4?{range}"),
            &[("range", bad)],
        );
        assert_eq!(r.status, 416, "range {bad}");
    }
    for cookie in [
        "hearth_session=".to_owned(),
        "hearth_session=garbage".to_owned(),
        format!("hearth_session={}", "A".repeat(5000)),
        "=;;;==;hearth_session".to_owned(),
    ] {
        let r = Client::new(&s.url).get_with("/api/cameras", &[("cookie", &cookie)]);
        assert_eq!(r.status, 401, "cookie {cookie:.40}");
    }
    let anon = Client::new(&s.url);
    let huge = vec![b'x'; 1 << 20];
    // Refused: a 413, or the connection cut before the body was all sent.
    let r = anon.try_post_raw("/api/login", "application/json", &huge, &[]);
    assert!(
        r.as_ref().is_none_or(|r| r.status == 413),
        "a huge body was accepted"
    );
    assert!(
        anon.post_raw("/api/login", "application/json", b"{not json", &[])
            .status
            / 100
            == 4
    );
    assert_eq!(Client::new(&s.url).get("/healthz").text(), "ok");

    // The audit log has all of it, and its chain holds.
    let log = admin.get("/api/audit?limit=10000").json();
    let entries = log.as_array().expect("entries");
    let has = |action: &str, user: &str| {
        entries
            .iter()
            .any(|e| e["action"] == action && e["user"] == user)
    };
    assert!(has("login", "ann") && has("logout", "ann") && has("login_failed", "bob"));
    assert!(has("password_change", "ann") && has("export", "ann"));
    let changed = |what: &str| {
        entries.iter().any(|e| {
            e["action"] == what && e["detail"].as_str().is_some_and(|d| d.starts_with("bob"))
        })
    };
    assert!(
        changed("permission_change") && changed("user_remove"),
        "account changes audited"
    );
    let playback = entries
        .iter()
        .find(|e| e["action"] == "playback" && e["user"] == "ann")
        .expect("playback audited");
    assert_eq!(playback["camera"], "front");
    assert!(playback["from_us"].as_i64().is_some() && playback["address"] == "127.0.0.1");
    // Viewers see only their own entries, whoever they ask for.
    let own = logged_in(&s, ann).get("/api/audit?user=admin").json();
    let own = own.as_array().expect("entries");
    assert!(
        !own.is_empty() && own.iter().all(|e| e["user"] == "ann"),
        "{own:?}"
    );
    // Filters: one user's playbacks of one camera; a page before an entry.
    let picked = admin
        .get("/api/audit?user=ann&action=playback&camera=front")
        .json();
    let picked = picked.as_array().expect("entries");
    assert!(!picked.is_empty(), "ann's playbacks");
    assert!(
        picked
            .iter()
            .all(|e| e["user"] == "ann" && e["action"] == "playback" && e["camera"] == "front")
    );
    let newest = entries
        .last()
        .and_then(|e| e["id"].as_i64())
        .expect("an entry");
    let before = admin
        .get(&format!("/api/audit?before={newest}&limit=3"))
        .json();
    let ids: Vec<i64> = before
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(ids, [newest - 3, newest - 2, newest - 1]);
    let page = admin.get("/audit?action=playback").text();
    assert!(
        page.contains("<td>playback</td>") && !page.contains("<td>login</td>"),
        "{page}"
    );
    let verified = admin.post("/api/audit/verify", serde_json::json!({}));
    assert_eq!(verified.json()["ok"], true, "{}", verified.text());
    let (ok, out) = s.nvr.cli(&["audit", "verify"]);
    assert!(ok, "{out}");
    let (ok, out) = s.nvr.cli(&["audit", "list"]);
    assert!(
        ok && out.contains("playback") && out.contains("front"),
        "{out}"
    );

    // Tampering, by someone with the database in hand: detected.
    s.nvr.stop();
    let db = rusqlite::Connection::open(s.nvr.data().join("hearth.db")).expect("db");
    assert!(
        db.execute(
            "UPDATE audit SET user = 'nobody' WHERE action = 'playback'",
            []
        )
        .is_err(),
        "the schema refuses edits"
    );
    db.execute_batch(
        "DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;
         UPDATE audit SET camera = 'back' WHERE action = 'playback';",
    )
    .expect("tamper");
    let (ok, out) = s.nvr.cli(&["audit", "verify"]);
    assert!(!ok && out.contains("altered"), "{out}");
    db.execute_batch(
        "UPDATE audit SET camera = 'front' WHERE action = 'playback';
         DELETE FROM audit WHERE id = (SELECT max(id) FROM audit);",
    )
    .expect("tamper");
    let (ok, out) = s.nvr.cli(&["audit", "verify"]);
    assert!(!ok && out.contains("removed"), "{out}");
}

#[test]
fn logins_are_rate_limited_without_revealing_names() {
    let s = site("tls = \"off\"", 0);
    let anon = Client::new(&s.url);
    let wrong_user = anon.post(
        "/api/login",
        serde_json::json!({"username": "nobody", "password": "x"}),
    );
    let wrong_pass = anon.post(
        "/api/login",
        serde_json::json!({"username": ANN.0, "password": "x"}),
    );
    assert_eq!((wrong_user.status, wrong_pass.status), (401, 401));
    assert_eq!(
        wrong_user.body, wrong_pass.body,
        "the answer does not say which was wrong"
    );
    for _ in 0..3 {
        anon.post(
            "/api/login",
            serde_json::json!({"username": ANN.0, "password": "x"}),
        );
    }
    // Five failures from this address: even the right password is refused now.
    let r = Client::new(&s.url).login(ANN.0, ANN.1);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("Try again in"), "{}", r.text());
    let page = anon.post_raw(
        "/login",
        "application/x-www-form-urlencoded",
        b"username=ann&password=ann-password-1",
        &[],
    );
    assert_eq!(page.status, 429);
    assert!(page.text().contains("Too many failed logins"));
}

#[test]
fn idle_and_absolute_session_expiry() {
    let s = site(
        "tls = \"off\"\nsession_idle = \"3s\"\nsession_max = \"8s\"",
        0,
    );
    let idle = logged_in(&s, ANN);
    sleep_s(5);
    assert_eq!(idle.get("/api/cameras").status, 401, "idle too long");
    let busy = logged_in(&s, ANN);
    for _ in 0..5 {
        sleep_s(1);
        assert_eq!(
            busy.get("/api/cameras").status,
            200,
            "in use, within the maximum"
        );
    }
    sleep_s(4);
    // Kept alive all along, but past the absolute maximum it ends anyway.
    let _ = busy.get("/api/cameras");
    sleep_s(1);
    assert_eq!(busy.get("/api/cameras").status, 401);
}

#[test]
fn self_signed_tls_secure_cookies_and_two_factor_login() {
    let s = site("", 0);
    assert!(s.url.starts_with("https://"), "{}", s.url);
    assert!(s.nvr.data().join("tls-cert.pem").exists());
    let mut c = Client::new(&s.url);
    let r = c.login(ADMIN.0, ADMIN.1);
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").unwrap_or_default().to_owned();
    assert!(cookie.starts_with("__Host-hearth_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert_eq!(c.get("/api/users").status, 200);
    two_factor(&s);
}

fn code_for(secret: &str, steps_ahead: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    hearth::security::totp::code_at(secret, hearth::security::totp::step_of(now) + steps_ahead)
        .expect("code")
}

/// Two-factor login, set up through the API as the account page does.
fn two_factor(s: &Site) {
    let c = logged_in(s, ANN);
    let r = c.post("/api/account/totp/start", serde_json::json!({}));
    assert_eq!(r.status, 200);
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    assert!(
        r.json()["qr_svg"]
            .as_str()
            .is_some_and(|q| q.contains("<svg"))
    );
    // A session alone cannot turn it on: the password is asked for again.
    let no_pw = c.post(
        "/api/account/totp/confirm",
        serde_json::json!({"code": code_for(&secret, 0)}),
    );
    assert_eq!(no_pw.status / 100, 4, "confirmed without the password");
    let wrong_pw = c.post(
        "/api/account/totp/confirm",
        serde_json::json!({"code": code_for(&secret, 0), "password": "not-her-password"}),
    );
    assert_eq!(wrong_pw.status, 403);
    let wrong = c.post(
        "/api/account/totp/confirm",
        serde_json::json!({"code": "12345x", "password": ANN.1}),
    );
    assert_eq!(wrong.status, 400);
    let r = c.post(
        "/api/account/totp/confirm",
        serde_json::json!({"code": code_for(&secret, 0), "password": ANN.1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let recovery: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(recovery.len(), 10);

    let login = |code: Option<&str>| {
        let mut body = serde_json::json!({"username": ANN.0, "password": ANN.1});
        if let Some(code) = code {
            body["code"] = code.into();
        }
        Client::new(&s.url).post("/api/login", body)
    };
    let no_code = login(None);
    let wrong_pw = Client::new(&s.url).post(
        "/api/login",
        serde_json::json!({"username": ANN.0, "password": "nope-nope-nope"}),
    );
    assert_eq!(no_code.status, 401, "the password alone is not enough");
    assert_eq!(
        no_code.body, wrong_pw.body,
        "and it does not say the password was right"
    );
    // The next step's code (within the allowed skew) works, once.
    let next = code_for(&secret, 1);
    assert_eq!(login(Some(&next)).status, 200);
    assert_eq!(login(Some(&next)).status, 401, "a code is good once");
    assert_eq!(login(Some(&recovery[0])).status, 200);
    assert_eq!(
        login(Some(&recovery[0])).status,
        401,
        "a recovery code is good once"
    );

    // Four failures so far from this address; the fifth would lock it for a while.
    let mut c = Client::new(&s.url);
    let r = c.post(
        "/api/login",
        serde_json::json!({"username": ANN.0, "password": ANN.1, "code": recovery[1]}),
    );
    assert_eq!(r.status, 200);
    c.cookie = r
        .header("set-cookie")
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    c.csrf = r.json()["csrf_token"].as_str().map(str::to_owned);
    let r = c.post(
        "/api/account/totp/disable",
        serde_json::json!({"password": ANN.1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        Client::new(&s.url).login(ANN.0, ANN.1).status,
        200,
        "off again"
    );
    let (ok, out) = s.nvr.cli(&["audit", "list", "--user", "ann"]);
    assert!(ok, "{out}");
    for want in [
        "totp_enabled",
        "with a recovery code",
        "totp_disabled",
        "login_failed",
    ] {
        assert!(out.contains(want), "{want} not audited: {out}");
    }
    admin_resets_a_second_factor(s, &c);
}

/// Turns ann's second factor on through the API (with her password), as `c`.
fn enable_totp(c: &Client) {
    let r = c.post("/api/account/totp/start", serde_json::json!({}));
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    let r = c.post(
        "/api/account/totp/confirm",
        serde_json::json!({"code": code_for(&secret, 0), "password": ANN.1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A lost phone: an admin turns the factor off, from the web and from the CLI,
/// each audited; the user's sessions end.
fn admin_resets_a_second_factor(s: &Site, ann: &Client) {
    enable_totp(ann);
    let admin = logged_in(s, ADMIN);
    let viewer = logged_in(s, BOB);
    let refused = viewer.post("/api/users/ann/totp/reset", serde_json::json!({}));
    assert_eq!(refused.status, 403, "only an admin");
    let r = admin.post("/api/users/ann/totp/reset", serde_json::json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(ann.get("/api/cameras").status, 401, "her sessions ended");
    let mut ann = Client::new(&s.url);
    assert_eq!(ann.login(ANN.0, ANN.1).status, 200, "no code needed now");
    enable_totp(&ann);
    let (ok, out) = s.nvr.cli(&["user", "reset-totp", "ann"]);
    assert!(ok, "{out}");
    assert_eq!(Client::new(&s.url).login(ANN.0, ANN.1).status, 200);
    let (ok, out) = s.nvr.cli(&["audit", "list"]);
    assert!(ok, "{out}");
    let resets: Vec<&str> = out.lines().filter(|l| l.contains("totp_reset")).collect();
    assert_eq!(resets.len(), 2, "{out}");
    assert!(
        resets[0].contains(ADMIN.0) && resets[1].contains("cli:"),
        "{resets:?}"
    );
}

#[test]
fn the_owners_certificate_files() {
    // A certificate made elsewhere (here: by a first Hearth) given as tls = "files".
    let first = site("", 0);
    let cert = first.nvr.data().join("tls-cert.pem");
    let key = first.nvr.data().join("tls-key.pem");
    let dir = tempfile::tempdir().expect("tempdir");
    let (c2, k2) = (
        dir.path().join("owner-cert.pem"),
        dir.path().join("owner-key.pem"),
    );
    std::fs::copy(&cert, &c2).expect("copy");
    std::fs::copy(&key, &k2).expect("copy");
    drop(first);
    let s = site(
        &format!(
            "tls = \"files\"\ncert_file = {:?}\nkey_file = {:?}",
            c2.display().to_string(),
            k2.display().to_string()
        ),
        0,
    );
    assert!(s.url.starts_with("https://"));
    assert!(
        !s.nvr.data().join("tls-cert.pem").exists(),
        "no self-signed certificate made"
    );
    let mut c = Client::new(&s.url);
    assert_eq!(c.login(ADMIN.0, ADMIN.1).status, 200);
    // A missing key file stops the start with a message naming it.
    let mut bad = Nvr::new(
        &format!(
            "min_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{}\"\ntls = \"files\"\ncert_file = {:?}\nkey_file = \"/nonexistent/key.pem\"\n",
            free_port(),
            c2.display().to_string()
        ),
        &[],
    );
    bad.start();
    let status = bad
        .proc
        .as_mut()
        .expect("running")
        .wait(std::time::Duration::from_secs(30));
    assert!(!status.success());
    assert!(
        bad.log_text().contains("/nonexistent/key.pem"),
        "{}",
        bad.log_text()
    );
}
