//! The HTTP requests alerts are (pure): a webhook's signed JSON body, an ntfy
//! publish, a Gotify message, and the link back to the event in Hearth.
//!
//! A webhook's body is [`topics::event_json`] with `link` and `sent_at` (and
//! `snapshot`, a base64 JPEG, when the camera lets pictures leave); its
//! `X-Hearth-Signature-256` header is `sha256=` and the hex HMAC-SHA256 of the
//! exact body under the hook's secret.

use super::topics;
use crate::config::{Push, PushService, Webhook};
use crate::local_time::Zone;
use crate::motion::notices::Notice;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-Hearth-Signature-256";

/// One request to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub url: url::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What a push says.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub title: String,
    pub message: String,
    pub link: Option<url::Url>,
}

/// The page that plays the event: its camera's day, from just before it started.
pub fn event_link(base: &url::Url, zone: Zone, camera: &str, start_us: i64) -> Option<url::Url> {
    let mut u = base.join(&format!("cameras/{camera}")).ok()?;
    u.query_pairs_mut()
        .append_pair("day", &zone.day_of(start_us).format("%Y-%m-%d").to_string());
    let from_ms = (start_us / 1000 - 3000).max(zone.day_start(zone.day_of(start_us)) / 1000);
    u.set_fragment(Some(&format!("t={from_ms}")));
    Some(u)
}

/// A push's words for an event's start (camera and zone names are plain ASCII).
pub fn alert(n: &Notice, zone: Zone, link: Option<url::Url>) -> Alert {
    let at = zone.time(n.start_us);
    let message = if n.zones.is_empty() {
        format!("Motion at {} at {at}", n.camera)
    } else {
        format!("Motion at {} ({}) at {at}", n.camera, n.zones.join(", "))
    };
    Alert {
        title: format!("Motion: {}", n.camera),
        message,
        link,
    }
}

pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

pub fn webhook(
    w: &Webhook,
    n: &Notice,
    link: Option<&url::Url>,
    snapshot: Option<&[u8]>,
    sent_at_us: i64,
) -> Request {
    let mut j = topics::event_json(n);
    j["link"] = json!(link.map(url::Url::as_str));
    j["sent_at"] = json!(topics::rfc3339(sent_at_us));
    if let Some(jpeg) = snapshot {
        j["snapshot"] = json!(base64::engine::general_purpose::STANDARD.encode(jpeg));
    }
    signed(w, &j)
}

/// A view of a camera's footage for a webhook: [`topics::view_json`] with
/// `sent_at`.
pub fn view_webhook(
    w: &Webhook,
    r: &crate::audit_record::Record,
    message: &str,
    sent_at_us: i64,
) -> Request {
    let mut j = topics::view_json(r, message);
    j["sent_at"] = json!(topics::rfc3339(sent_at_us));
    signed(w, &j)
}

/// `j` posted to a webhook, signed with its secret.
fn signed(w: &Webhook, j: &serde_json::Value) -> Request {
    let body = j.to_string().into_bytes();
    let kind = j["event_type"].as_str().unwrap_or_default().to_owned();
    Request {
        method: "POST",
        url: w.url.clone(),
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("X-Hearth-Event", kind),
            (SIGNATURE_HEADER, sign(w.secret.expose().as_bytes(), &body)),
        ],
        body,
    }
}

pub fn push(p: &Push, a: &Alert, picture: Option<&[u8]>) -> Request {
    match p.service {
        PushService::Ntfy => ntfy(p, a, picture),
        PushService::Gotify => gotify(p, a),
    }
}

/// ntfy: the message as the body, or with a picture the picture as the body
/// (an attachment) and the message in a header.
fn ntfy(p: &Push, a: &Alert, picture: Option<&[u8]>) -> Request {
    let mut headers = vec![("Title", a.title.clone()), ("Tags", "camera".to_owned())];
    if let Some(l) = &a.link {
        headers.push(("Click", l.to_string()));
    }
    if let Some(t) = &p.token {
        headers.push(("Authorization", format!("Bearer {}", t.expose())));
    }
    match picture {
        None => Request {
            method: "POST",
            url: p.url.clone(),
            headers,
            body: a.message.clone().into_bytes(),
        },
        Some(jpeg) => {
            headers.push(("Message", a.message.clone()));
            headers.push(("Filename", "motion.jpg".to_owned()));
            Request {
                method: "PUT",
                url: p.url.clone(),
                headers,
                body: jpeg.to_vec(),
            }
        }
    }
}

/// Gotify: a JSON message to the server's `/message`, the link as the
/// notification's click target.
fn gotify(p: &Push, a: &Alert) -> Request {
    let mut url = p.url.clone();
    let path = format!("{}/message", url.path().trim_end_matches('/'));
    url.set_path(&path);
    let mut j = json!({ "title": a.title, "message": a.message, "priority": 5 });
    if let Some(l) = &a.link {
        j["extras"] = json!({ "client::notification": { "click": { "url": l.as_str() } } });
    }
    let mut headers = vec![("Content-Type", "application/json".to_owned())];
    if let Some(t) = &p.token {
        headers.push(("X-Gotify-Key", t.expose().to_owned()));
    }
    Request {
        method: "POST",
        url,
        headers,
        body: j.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::motion::notices::Phase;

    fn notice() -> Notice {
        Notice {
            camera: "door".into(),
            phase: Phase::Started,
            id: None,
            start_us: 1_780_000_000_000_000,
            end_us: 1_780_000_001_000_000,
            peak: 0.2,
            zones: vec!["porch".into()],
            picture: None,
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let w = Webhook {
            url: "http://10.0.0.5/h".parse().unwrap(),
            secret: Secret::new("0123456789abcdef".into()),
            cameras: None,
            allow_internet: false,
        };
        let r = webhook(&w, &notice(), None, Some(b"jpg"), 1_780_000_002_000_000);
        let sig = &r
            .headers
            .iter()
            .find(|(k, _)| *k == SIGNATURE_HEADER)
            .unwrap()
            .1;
        assert_eq!(*sig, sign(b"0123456789abcdef", &r.body));
        let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (j["event_type"].as_str(), j["snapshot"].as_str()),
            (Some("motion_start"), Some("anBn"))
        );
    }

    #[test]
    fn pushes_carry_the_words_and_the_link() {
        let zone = Zone::named("Europe/Berlin").unwrap();
        let link = event_link(
            &"https://hearth.lan:8443/".parse().unwrap(),
            zone,
            "door",
            notice().start_us,
        )
        .unwrap();
        assert_eq!(
            link.as_str(),
            "https://hearth.lan:8443/cameras/door?day=2026-05-28#t=1779999997000"
        );
        let a = alert(&notice(), zone, Some(link));
        assert_eq!(a.message, "Motion at door (porch) at 22:26:40");
        let mut p = Push {
            service: PushService::Ntfy,
            url: "http://ntfy.lan/alerts".parse().unwrap(),
            token: Some(Secret::new("tk".into())),
            cameras: None,
            allow_internet: false,
        };
        let r = push(&p, &a, None);
        assert_eq!(
            (r.method, r.body.as_slice()),
            ("POST", a.message.as_bytes())
        );
        assert!(r.headers.contains(&("Authorization", "Bearer tk".into())));
        let r = push(&p, &a, Some(b"jpg"));
        assert_eq!((r.method, r.body.as_slice()), ("PUT", &b"jpg"[..]));
        p.service = PushService::Gotify;
        p.url = "http://gotify.lan/base/".parse().unwrap();
        let r = push(&p, &a, Some(b"jpg"));
        assert_eq!(r.url.as_str(), "http://gotify.lan/base/message");
        let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            j["extras"]["client::notification"]["click"]["url"],
            a.link.unwrap().as_str()
        );
    }
}
