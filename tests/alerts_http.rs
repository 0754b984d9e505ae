//! Webhooks and pushes to real HTTP servers on loopback: a webhook receiver
//! gets each event's start and end as JSON whose signature verifies, with the
//! event's snapshot because the camera lets pictures leave; an ntfy server gets
//! a push with the picture, the words and the link back; a Gotify server gets
//! its message; a receiver that is down gets its tries and then a counted
//! give-up, while recording and detection go on without a lost frame; every
//! picture that left is in the audit log, saying where it went.

mod common;

use common::http_receiver::{Received, Receiver};
use common::*;
use hearth::store::Store;
use hmac::{Hmac, Mac};
use std::time::Duration;

const SECRET: &str = "webhook-secret-0123";

fn verify(r: &Received) -> bool {
    let Some(sig) = r.header("x-hearth-signature-256") else {
        return false;
    };
    let Some(hex) = sig.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(want) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&r.body);
    mac.verify_slice(&want).is_ok()
}

#[test]
fn webhooks_and_pushes_reach_the_owners_servers_and_a_dead_one_costs_nothing() {
    let good = Receiver::start(200);
    let down = Receiver::start(503);
    let port = free_port();
    let _cam = fake_camera(port, None);
    let top = format!(
        "min_free = \"1MB\"\n[alerts]\nlink_base = \"https://hearth.lan:8443\"\n\
         [[webhooks]]\nurl = \"{}\"\nsecret = \"{SECRET}\"\n\
         [[webhooks]]\nurl = \"{}\"\nsecret = \"{SECRET}\"\n\
         [[push]]\nservice = \"ntfy\"\nurl = \"{}\"\ntoken = \"tk_ntfy\"\n\
         [[push]]\nservice = \"gotify\"\nurl = \"{}\"\ntoken = \"gotify-app-token\"\n",
        good.url("/hook"),
        down.url("/hook"),
        good.url("/hearth-alerts"),
        good.url("/gotify"),
    );
    let extra = format!(
        "sub_url = \"rtsp://127.0.0.1:{port}/sub\"\n\
         [cameras.alerts]\nsnapshots = true\ncooldown = \"1s\"\n"
    );
    let mut nvr = Nvr::new(
        &top,
        &[Cam {
            name: "garden",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: &extra,
        }],
    );
    nvr.start();
    let on = |path: &str| -> Vec<Received> {
        good.seen().into_iter().filter(|r| r.path == path).collect()
    };
    let kinds =
        |rs: &[Received], kind: &str| rs.iter().filter(|r| r.json()["event_type"] == kind).count();
    assert!(
        wait_until(Duration::from_secs(75), || kinds(
            &on("/hook"),
            "motion_end"
        ) >= 2),
        "no two events ended at the webhook: {:?}\n{}",
        on("/hook"),
        nvr.log_text()
    );
    let hooks = on("/hook");
    assert!(kinds(&hooks, "motion_start") >= 2, "{hooks:?}");
    for r in &hooks {
        assert_eq!(r.method, "POST");
        assert!(verify(r), "signature does not verify: {r:?}");
        let j = r.json();
        assert_eq!(j["camera"], "garden");
        assert!(
            j["link"]
                .as_str()
                .is_some_and(|l| l.starts_with("https://hearth.lan:8443/cameras/garden?day=")),
            "{j}"
        );
        if j["event_type"] == "motion_end" {
            use base64::Engine;
            let jpeg = base64::engine::general_purpose::STANDARD
                .decode(j["snapshot"].as_str().expect("snapshot, opted in"))
                .expect("base64");
            assert_eq!(&jpeg[..2], &[0xff, 0xd8], "a JPEG");
            assert!(j["id"].as_i64().is_some(), "{j}");
        } else {
            assert!(j.get("snapshot").is_none(), "a start carries no snapshot");
        }
    }
    // A changed byte fails the signature.
    let mut forged = hooks[0].clone();
    forged.body[2] ^= 1;
    assert!(!verify(&forged));

    let ntfy = on("/hearth-alerts");
    assert!(ntfy.len() >= 2, "{ntfy:?}");
    for r in &ntfy {
        assert_eq!(r.method, "PUT", "the picture attached");
        assert_eq!(&r.body[..2], &[0xff, 0xd8]);
        assert_eq!(r.header("title"), Some("Motion: garden"));
        assert!(
            r.header("message")
                .is_some_and(|m| m.starts_with("Motion at garden at ")),
            "{r:?}"
        );
        assert!(
            r.header("click")
                .is_some_and(|c| c.contains("/cameras/garden?day=") && c.contains("#t="))
        );
        assert_eq!(r.header("authorization"), Some("Bearer tk_ntfy"));
    }
    let gotify = on("/gotify/message");
    assert!(gotify.len() >= 2, "{gotify:?}");
    assert_eq!(gotify[0].header("x-gotify-key"), Some("gotify-app-token"));
    assert_eq!(gotify[0].json()["title"], "Motion: garden");

    // The dead receiver: the first event's start tried four times, then given up.
    assert!(
        wait_until(Duration::from_secs(20), || nvr
            .log_text()
            .contains("given up after 4 tries")),
        "{}",
        nvr.log_text()
    );
    let first = down
        .seen()
        .first()
        .map(|r| r.body.clone())
        .expect("the dead receiver was tried");
    assert_eq!(down.seen().iter().filter(|r| r.body == first).count(), 4);
    nvr.stop();
    let log = nvr.log_text();
    let main = log
        .lines()
        .find(|l| l.contains("stopped: frames received") && l.contains("main"))
        .expect("main stream's counts");
    assert!(main.contains("failed 0, dropped 0"), "{main}");

    // Every picture that left is audited, with where it went.
    let store = Store::open(&nvr.data().join("hearth.db")).expect("index");
    let sent: Vec<String> = store
        .audit_entries(None, 1000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.record.action == "picture_sent")
        .map(|e| e.record.detail.unwrap_or_default())
        .collect();
    let to = |what: &str| sent.iter().filter(|d| d.contains(what)).count();
    assert!(
        to(&format!("push http://127.0.0.1:{}", good.port)) >= ntfy.len(),
        "{sent:?}"
    );
    assert!(
        to(&format!("webhook http://127.0.0.1:{}", good.port)) >= 2,
        "{sent:?}"
    );
    assert!(
        to(&format!("webhook http://127.0.0.1:{}", down.port)) >= 1,
        "{sent:?}"
    );
    println!(
        "webhook requests {}, ntfy {}, gotify {}, dead receiver tried {} times, pictures audited {}",
        hooks.len(),
        ntfy.len(),
        gotify.len(),
        down.seen().len(),
        sent.len()
    );
}
