//! The JSON API: cameras with health, recordings of a camera, storage usage, the
//! audit log, users. Footage itself is in `media.rs`.

use super::auth::{Authed, CameraAccess};
use super::error::WebError;
use super::state::AppState;
use crate::config::StreamKind;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use std::time::UNIX_EPOCH;

/// A time range from the query string, RFC 3339, at most a day long.
#[derive(Deserialize)]
pub struct RangeQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub stream: Option<String>,
}

pub const MAX_RANGE_US: i64 = 24 * 3600 * 1_000_000;

impl RangeQuery {
    pub fn parse(&self) -> Result<(i64, i64, StreamKind), WebError> {
        let (from, to) = (parse_time("from", &self.from)?, parse_time("to", &self.to)?);
        if to <= from {
            return Err(WebError::BadRequest("to must be after from".into()));
        }
        if to - from > MAX_RANGE_US {
            return Err(WebError::BadRequest("a range is at most 24 hours".into()));
        }
        let stream = match self.stream.as_deref() {
            None => StreamKind::Main,
            Some(s) => StreamKind::parse(s)
                .ok_or_else(|| WebError::BadRequest("stream is main or sub".into()))?,
        };
        Ok((from, to, stream))
    }
}

/// The query parameter `name`'s RFC 3339 time, in UTC µs.
pub fn parse_time(name: &str, v: &str) -> Result<i64, WebError> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_micros())
        .map_err(|_| {
            WebError::BadRequest(format!(
                "{name}: not an RFC 3339 time such as 2026-11-28T21:00:00Z"
            ))
        })
}

/// API times are RFC 3339 in UTC (`Z`: safe in a URL as it is); pages show the
/// household's zone.
pub fn rfc3339(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[derive(Serialize)]
pub struct StreamStatus {
    pub stream: &'static str,
    pub connected: bool,
    pub connected_since: Option<String>,
    pub fps: f64,
    pub bitrate_bps: f64,
    pub frames: u64,
    pub reconnects: u64,
    pub last_error: Option<String>,
}

#[derive(Serialize)]
pub struct CameraStatus {
    pub name: String,
    pub record: String,
    pub streams: Vec<StreamStatus>,
    /// In privacy mode: since when, by whom, until when if it ends by itself.
    pub private: Option<crate::web::state::Private>,
    /// Its privacy groups, switched together.
    pub privacy_groups: Vec<String>,
}

impl CameraStatus {
    /// The privacy mode in words for the pages: "since …, by …, until …".
    pub fn private_note(&self, zone: crate::local_time::Zone) -> Option<String> {
        self.private.as_ref().map(|p| private_words(p, zone))
    }
}

/// A camera's privacy mode in words: "since …, by …[, until …]".
pub fn private_words(p: &crate::web::state::Private, zone: crate::local_time::Zone) -> String {
    let by = if p.by == "schedule" {
        "by its schedule".to_owned()
    } else {
        format!("by {}", p.by)
    };
    let until = p
        .until_us
        .map_or(String::new(), |u| format!(", until {}", zone.date_time(u)));
    format!("since {} {by}{until}", zone.date_time(p.since_us))
}

impl CameraStatus {
    /// The stream live view shows by default: the sub stream when it runs.
    pub fn live_stream(&self) -> Option<&StreamStatus> {
        let sub = self.streams.iter().find(|s| s.stream == "sub");
        sub.or_else(|| self.streams.first())
    }
}

/// Cameras the user may see, with health (never URLs or credentials).
pub fn camera_statuses(state: &AppState, a: &Authed) -> Vec<CameraStatus> {
    state
        .running()
        .cfg
        .cameras
        .iter()
        .filter(|c| a.user.may_view(&c.name))
        .map(|c| CameraStatus {
            name: c.name.clone(),
            record: format!("{:?}", c.record).to_lowercase(),
            private: state.running().private.get(&c.name).cloned(),
            privacy_groups: c.privacy_groups.clone(),
            streams: state
                .running()
                .health
                .iter()
                .filter(|((cam, _), _)| *cam == c.name)
                .map(|((_, stream), h)| {
                    let s = h.snapshot();
                    StreamStatus {
                        stream: stream.as_str(),
                        connected: s.connected_since.is_some(),
                        connected_since: s.connected_since.and_then(|t| {
                            t.duration_since(UNIX_EPOCH)
                                .ok()
                                .map(|d| rfc3339(crate::media::clock::duration_us(d)))
                        }),
                        fps: (s.fps * 10.0).round() / 10.0,
                        bitrate_bps: s.bitrate_bps.round(),
                        frames: s.frames,
                        reconnects: s.reconnects,
                        last_error: s.last_error,
                    }
                })
                .collect(),
        })
        .collect()
}

pub async fn cameras(State(state): State<AppState>, a: Authed) -> Json<Vec<CameraStatus>> {
    Json(camera_statuses(&state, &a))
}

#[derive(Serialize)]
pub struct Recording {
    pub start: String,
    pub end: String,
    pub start_us: i64,
    pub end_us: i64,
    pub frames: u64,
    pub bytes: u64,
    pub codec: String,
    pub width: u32,
    pub height: u32,
}

pub async fn recordings(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Vec<Recording>>, WebError> {
    let (from, to, stream) = q.parse()?;
    let name = cam.camera.clone();
    let rows = state
        .blocking(move |s| s.store.segments_between(&name, stream, from, to))
        .await??;
    Ok(Json(
        rows.into_iter()
            .map(|r| Recording {
                start: rfc3339(r.start_us),
                end: rfc3339(r.end_us()),
                start_us: r.start_us,
                end_us: r.end_us(),
                frames: r.progress.frames,
                bytes: r.progress.bytes,
                codec: r.codec,
                width: r.width,
                height: r.height,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
pub struct EventInfo {
    pub id: i64,
    pub start: String,
    pub end: String,
    pub start_us: i64,
    pub end_us: i64,
    pub peak: f32,
    pub zones: Vec<String>,
    /// x0,y0,x1,y1 in 0..1 units.
    pub bbox: Option<String>,
}

/// Motion events of a camera in a range (no pictures: those are footage, fetched
/// and audited one by one).
pub async fn events(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Vec<EventInfo>>, WebError> {
    let (from, to, _) = q.parse()?;
    Ok(Json(event_list(&state, &cam.camera, from, to).await?))
}

pub async fn event_list(
    state: &AppState,
    camera: &str,
    from: i64,
    to: i64,
) -> Result<Vec<EventInfo>, WebError> {
    let name = camera.to_owned();
    let rows = state
        .blocking(move |s| s.store.events_between(&name, from, to))
        .await??;
    Ok(rows
        .into_iter()
        .map(|e| EventInfo {
            id: e.id,
            start: rfc3339(e.start_us),
            end: rfc3339(e.end_us),
            start_us: e.start_us,
            end_us: e.end_us,
            peak: e.peak,
            zones: e.zones,
            bbox: e.bbox,
        })
        .collect())
}

/// Motion activity per second (the highest score in it), for the timeline.
pub async fn activity(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Vec<(i64, f32)>>, WebError> {
    let (from, to, _) = q.parse()?;
    let name = cam.camera.clone();
    let rows = state
        .blocking(move |s| {
            s.store.activity_between(
                &name,
                from.div_euclid(1_000_000),
                to.div_euclid(1_000_000) + 1,
            )
        })
        .await??;
    Ok(Json(rows))
}

#[derive(Serialize)]
pub struct CameraUsage {
    pub name: String,
    pub bytes: u64,
    pub segments: u64,
    pub oldest: Option<String>,
    pub newest: Option<String>,
    pub oldest_us: Option<i64>,
    pub newest_us: Option<i64>,
}

#[derive(Serialize)]
pub struct Storage {
    pub free_bytes: u64,
    pub recorded_bytes: u64,
    pub cameras: Vec<CameraUsage>,
}

pub async fn storage_usage(state: &AppState, a: &Authed) -> Result<Storage, WebError> {
    let user = a.user.clone();
    state
        .blocking(move |s| -> Result<Storage, WebError> {
            let usage = s.store.usage_per_camera()?;
            let mut cams: Vec<CameraUsage> = Vec::new();
            for c in s
                .running()
                .cfg
                .cameras
                .iter()
                .filter(|c| user.may_view(&c.name))
            {
                let u = usage.iter().find(|u| u.camera == c.name);
                cams.push(CameraUsage {
                    name: c.name.clone(),
                    segments: u.map_or(0, |u| u.segments),
                    bytes: u.map_or(0, |u| u.bytes),
                    oldest: u.map(|u| rfc3339(u.oldest_us)),
                    newest: u.map(|u| rfc3339(u.newest_us)),
                    oldest_us: u.map(|u| u.oldest_us),
                    newest_us: u.map(|u| u.newest_us),
                });
            }
            Ok(Storage {
                free_bytes: crate::record::retention::free_space(&s.running().cfg.storage.data_dir)
                    .unwrap_or(0),
                recorded_bytes: cams.iter().map(|c| c.bytes).sum(),
                cameras: cams,
            })
        })
        .await?
}

pub async fn storage(State(state): State<AppState>, a: Authed) -> Result<Json<Storage>, WebError> {
    Ok(Json(storage_usage(&state, &a).await?))
}

pub async fn healthz() -> &'static str {
    "ok"
}
