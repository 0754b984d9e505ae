//! The admin's **Test connection**: one RTSP session to the URL in the camera
//! form (DESCRIBE, SETUP, first frames), answered with codec, size, frame rate,
//! bit rate and a still, or the camera's error in words. It is an admin's tool,
//! not a proxy: only `rtsp://` URLs, no redirect followed (retina follows none,
//! and a session pointed at another host is refused by `ingest::base_url`), a
//! time limit, two tests at a time, and a stored password only ever sent to
//! the host and port it was stored for. Each test is audited.

use super::auth::Admin;
use super::error::WebError;
use super::state::AppState;
use crate::config::{self, Camera, Motion, RecordMode, RtpTransport, Secret, StreamKind};
use crate::ingest::probe::{self, Probe};
use crate::ingest::rtsp::StreamSpec;
use crate::security::audit_chain::{Record, action};
use axum::Json;
use axum::extract::State;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// How long a test may take, connection and first frames together.
pub const TEST_TIME: Duration = Duration::from_secs(12);
/// The still's width at most.
const STILL_WIDTH: u32 = 960;

#[derive(Deserialize)]
pub struct TestAsk {
    /// The configured camera this form edits, whose stored credentials may be
    /// used for its own host.
    #[serde(default)]
    pub camera: Option<String>,
    pub url: String,
    #[serde(default)]
    pub username: String,
    /// Absent: the stored password (for the camera's own host only).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub transport: RtpTransport,
    #[serde(default)]
    pub audio: bool,
}

/// `host:port` of a URL, the only part of it the audit log keeps (paths and
/// queries of some cameras carry credentials).
fn place(u: &url::Url) -> String {
    format!(
        "{}:{}",
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(554)
    )
}

/// The stored password of `camera`, when `url` goes to one of its own places.
fn stored_password(cfg: &config::Config, camera: Option<&str>, url: &url::Url) -> Option<Secret> {
    let c = cfg.camera(camera?)?;
    let home = std::iter::once(&c.url)
        .chain(c.sub_url.as_ref())
        .any(|u| place(u) == place(url));
    home.then(|| c.password.clone()).flatten()
}

/// The camera a test connects as: the form's connection settings, nothing
/// recorded; off the local network only for a camera whose config allows it.
fn test_camera(
    ask: &TestAsk,
    url: &url::Url,
    password: Option<Secret>,
    allow_internet: bool,
) -> Camera {
    Camera {
        name: ask.camera.clone().unwrap_or_else(|| "test".into()),
        url: url.clone(),
        sub_url: None,
        username: (!ask.username.is_empty()).then(|| ask.username.clone()),
        password,
        record: RecordMode::Off,
        record_sub: false,
        transport: ask.transport,
        audio: ask.audio,
        allow_internet,
        max_bytes: None,
        motion: Motion {
            enabled: false,
            ..Motion::default()
        },
        alerts: crate::config::CameraAlerts::default(),
        privacy_schedule: Default::default(),
        privacy_groups: Vec::new(),
        notify_on_view: false,
    }
}

/// Rounds for display: a frame rate to a tenth.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `POST /api/admin/cameras/test` with the form's connection settings.
pub async fn test(
    State(state): State<AppState>,
    admin: Admin,
    Json(ask): Json<TestAsk>,
) -> Result<Json<Value>, WebError> {
    let url = config::camera_url(ask.url.trim())
        .map_err(|m| WebError::BadRequest(format!("url: {m}")))?;
    // A private camera is not connected to, not even to test it.
    let cfg = state.running().cfg.clone();
    for c in &cfg.cameras {
        let same = |u: &url::Url| place(u) == place(&url) && u.path() == url.path();
        if ask.camera.as_deref() == Some(c.name.as_str())
            || same(&c.url)
            || c.sub_url.as_ref().is_some_and(same)
        {
            state.not_private(&c.name)?;
        }
    }
    let password = match ask.password.as_deref() {
        Some(p) if !p.is_empty() => Some(Secret::new(p.to_owned())),
        Some(_) => None,
        None => stored_password(&state.running().cfg, ask.camera.as_deref(), &url),
    };
    let _turn = state.camera_tests.try_acquire().map_err(|_| {
        WebError::TooMany("two camera tests are running; try again when they end".into())
    })?;
    let allow_internet = ask
        .camera
        .as_deref()
        .and_then(|n| state.running().cfg.camera(n).map(|c| c.allow_internet))
        .unwrap_or(false);
    let spec = StreamSpec {
        camera: test_camera(&ask, &url, password, allow_internet),
        kind: StreamKind::Main,
        url: url.clone(),
    };
    let outcome = probe::probe(spec, TEST_TIME).await;
    let still = match &outcome {
        Ok(p) => Some(still_of(&state, p).await?),
        Err(_) => None,
    };
    let camera = ask.camera.clone().or_else(|| Some("(new camera)".into()));
    let detail = match &outcome {
        Ok(p) => format!(
            "{}: {} {}x{}, still shown",
            place(&url),
            p.codec,
            p.width,
            p.height
        ),
        Err(e) => format!("{}: failed: {e}", place(&url)),
    };
    state
        .audit(Record {
            camera,
            detail: Some(detail),
            ..admin.0.record(action::CAMERA_TEST)
        })
        .await?;
    Ok(Json(match outcome {
        Ok(p) => json!({
            "ok": true,
            "codec": p.codec,
            "width": p.width,
            "height": p.height,
            "fps": p.fps.map(tenth),
            "bitrate_kbps": p.bitrate_bps.map(|b| (b / 1000.0).round()),
            "audio": p.audio,
            "still": still.flatten(),
        }),
        Err(e) => json!({ "ok": false, "error": e }),
    }))
}

/// A JPEG as a `data:` URL, for a still inside a JSON answer.
pub(super) fn data_url(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

/// The probe's key frame as a `data:` JPEG, or `None` when it does not decode
/// (the figures still stand).
async fn still_of(state: &AppState, p: &Probe) -> Result<Option<String>, WebError> {
    let f = p.key_frame.clone();
    let jpeg = state
        .blocking(move |_| crate::motion::snapshot::key_frame_jpeg(&f.params, &f.data, STILL_WIDTH))
        .await?;
    Ok(match jpeg {
        Ok(j) => Some(data_url(&j)),
        Err(e) => {
            tracing::warn!("camera test: {e:#}");
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::place;

    #[test]
    fn places_name_host_and_port_only() {
        let u = url::Url::parse("rtsp://cam.local/Streaming/101?token=secret").unwrap();
        assert_eq!(place(&u), "cam.local:554");
        let u = url::Url::parse("rtsp://10.0.0.5:8554/main").unwrap();
        assert_eq!(place(&u), "10.0.0.5:8554");
    }
}
