//! Motion events across every camera a user may see: the filtered list (JSON
//! and the page), a per-user "reviewed" mark, and a Server-Sent Events stream
//! of events as they start, grow and end. Nothing here is footage: pictures
//! are fetched (and audited) one by one from `media`.

use super::auth::{Authed, CameraAccess, lookup, may_see};
use super::error::WebError;
use super::session_watch::SessionWatch;
use super::state::AppState;
use crate::motion::notices::Notice;
use crate::store::{EventFilter, EventRow};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chrono::NaiveDate;
use futures::Stream;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Events a page or an API answer lists at most.
pub const PAGE: i64 = 50;

/// The list's filters, from the query string: camera and zone names, from and
/// to (local days `YYYY-MM-DD` in the household's zone, or RFC 3339 times) and
/// the page.
#[derive(Deserialize, Default)]
pub struct EventQuery {
    #[serde(default)]
    pub camera: Option<String>,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// `START_US.ID` of the last event of the previous page.
    #[serde(default)]
    pub before: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl EventQuery {
    /// The filter for `a`: only cameras they may see, days in `state`'s zone.
    pub fn filter(&self, state: &AppState, a: &Authed) -> Result<EventFilter, WebError> {
        // A local day (`YYYY-MM-DD`: its start, or its end for `to`) or an instant.
        let bound = |name: &str, v: &str, end: bool| -> Result<i64, WebError> {
            if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                let (a, b) = state.zone.day_bounds(d);
                return Ok(if end { b } else { a });
            }
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_micros())
                .map_err(|_| {
                    WebError::BadRequest(format!(
                        "{name}: expected a day (YYYY-MM-DD) or an RFC 3339 time"
                    ))
                })
        };
        let from_us = nonempty(&self.from).map_or(Ok(i64::MIN), |v| bound("from", v, false))?;
        let to_us = nonempty(&self.to).map_or(Ok(i64::MAX), |v| bound("to", v, true))?;
        let before = match nonempty(&self.before) {
            None => None,
            Some(b) => Some(
                b.split_once('.')
                    .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)))
                    .ok_or_else(|| WebError::BadRequest("before: expected START.ID".into()))?,
            ),
        };
        let cameras = state
            .running()
            .cfg
            .cameras
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| may_see(state, &a.user, c))
            .filter(|c| nonempty(&self.camera).is_none_or(|want| want == c))
            .collect();
        Ok(EventFilter {
            cameras,
            zone: nonempty(&self.zone).map(str::to_owned),
            from_us,
            to_us,
            before,
            limit: PAGE,
            user_id: a.user.id,
        })
    }
}

/// An event in a list.
#[derive(Serialize)]
pub struct Listed {
    pub id: i64,
    pub camera: String,
    pub start: String,
    pub end: String,
    pub start_us: i64,
    pub end_us: i64,
    pub peak: f32,
    pub zones: Vec<String>,
    pub reviewed: bool,
    /// The range to play: the event with its camera's pre- and post-roll.
    pub play_from_us: i64,
    pub play_to_us: i64,
}

/// The events `q` picks for `a`, newest first.
pub async fn list(state: &AppState, a: &Authed, q: &EventQuery) -> Result<Vec<Listed>, WebError> {
    let f = q.filter(state, a)?;
    let rows = state
        .blocking(move |s| s.store.events_filtered(&f))
        .await??;
    Ok(rows
        .into_iter()
        .map(|(e, reviewed)| listed(state, e, reviewed))
        .collect())
}

fn listed(state: &AppState, e: EventRow, reviewed: bool) -> Listed {
    let (pre, post) = state.rolls(&e.camera);
    Listed {
        start: super::api::rfc3339(e.start_us),
        end: super::api::rfc3339(e.end_us),
        play_from_us: e.start_us - pre,
        play_to_us: e.end_us + post,
        id: e.id,
        camera: e.camera,
        start_us: e.start_us,
        end_us: e.end_us,
        peak: e.peak,
        zones: e.zones,
        reviewed,
    }
}

/// `GET /api/events?camera=&zone=&from=&to=&before=`
pub async fn api_list(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<EventQuery>,
) -> Result<Json<Vec<Listed>>, WebError> {
    Ok(Json(list(&state, &a, &q).await?))
}

#[derive(Deserialize)]
pub struct Review {
    pub reviewed: bool,
}

/// `POST /api/cameras/{name}/events/{id}/reviewed` with `{"reviewed": bool}`.
pub async fn review(
    State(state): State<AppState>,
    cam: CameraAccess,
    axum::extract::Path(p): axum::extract::Path<super::media::EventPath>,
    Json(r): Json<Review>,
) -> Result<Json<serde_json::Value>, WebError> {
    let (user, camera) = (cam.authed.user.id, cam.camera.clone());
    let found = state
        .blocking(move |s| s.store.set_reviewed(user, &camera, p.id, r.reviewed))
        .await??;
    if !found {
        return Err(WebError::NotFound);
    }
    Ok(Json(serde_json::json!({ "reviewed": r.reviewed })))
}

/// A notice as the stream sends it: with the range that plays it.
#[derive(Serialize)]
struct Told {
    #[serde(flatten)]
    notice: Notice,
    play_from_us: i64,
    play_to_us: i64,
}

/// `GET /api/events/stream`: Server-Sent Events, one `motion` event per notice
/// (JSON: camera, phase started|updated|ended, id once ended, times, peak,
/// zones, the range to play) of the cameras the user may see at that moment;
/// the stream ends with the session.
pub async fn stream(
    State(state): State<AppState>,
    a: Authed,
) -> Sse<impl Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let rx = state.notices.subscribe();
    let watch = SessionWatch::new(&a, None);
    let ended = {
        let (state, watch) = (state.clone(), watch.clone());
        Box::pin(async move { watch.ended(&state).await })
    };
    let token = a.token_hash.clone();
    let s = futures::stream::unfold(
        (rx, ended, state, token),
        |(mut rx, mut ended, state, token)| async move {
            loop {
                let n: Notice = tokio::select! {
                    _ = &mut ended => return None,
                    n = rx.recv() => match n {
                        Ok(n) => n,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return None,
                    },
                };
                // The permission as it is now, not as it was at the start.
                let (t, camera) = (token.clone(), n.camera.clone());
                let allowed = state
                    .blocking(move |s| {
                        matches!(lookup(s, &t, false), Ok(Ok((_, u))) if may_see(s, &u, &camera))
                    })
                    .await
                    .unwrap_or(false);
                if !allowed {
                    continue;
                }
                let (pre, post) = state.rolls(&n.camera);
                let body = Told {
                    play_from_us: n.start_us - pre,
                    play_to_us: n.end_us + post,
                    notice: n,
                };
                let ev = SseEvent::default()
                    .event("motion")
                    .json_data(&body)
                    .unwrap_or_else(|_| SseEvent::default().comment("unencodable"));
                return Some((Ok(ev), (rx, ended, state, token)));
            }
        },
    );
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
