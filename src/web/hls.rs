//! Live view as HLS, for browsers with neither Media Source Extensions nor
//! `ManagedMediaSource` (Safari on older iPhones plays HLS itself): `live.m3u8`
//! and its fMP4 segments, built from the hub's frames with no transcoding by a
//! feed per camera stream ([`HlsWindow`]) that the first request starts and that
//! stops once nobody asks.
//!
//! HTTP has no connection to end, so a session's live view over HLS starts with
//! its first request (audited as a live view, counted against the live-view
//! limits) and ends, audited with what was watched and why (its session ended,
//! or it stopped asking), once it has asked nothing for [`VIEWER_IDLE_US`] or the
//! camera's stream ends. Every request is checked against the session and the
//! camera permission like any other, so nothing is served after either ends.

use super::auth::CameraAccess;
use super::conn_limit::Slot;
use super::error::WebError;
use super::live_still::StreamQuery;
use super::state::AppState;
use crate::config::StreamKind;
use crate::ingest::hub::{Hub, StreamEvent};
use crate::media::hls_window::HlsWindow;
use crate::security::audit_chain::{Record, action};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// A session that asked for nothing this long has stopped watching.
pub const VIEWER_IDLE_US: i64 = 15_000_000;
/// How often viewers are looked over.
const SWEEP_EVERY: Duration = Duration::from_secs(3);
/// How long a first playlist request waits for the first whole segment.
const FIRST_SEGMENT_WAIT: Duration = Duration::from_secs(12);
/// Frames the feed may fall behind the camera by before it skips to the next GOP.
const FEED_QUEUE: usize = 256;

type Key = (String, StreamKind);

/// The running feeds, by camera stream.
#[derive(Default)]
pub struct Feeds(Mutex<HashMap<Key, Arc<Feed>>>);

struct Feed {
    window: Mutex<HlsWindow>,
    /// The newest segment's number, once there is one.
    newest: watch::Sender<Option<u64>>,
    /// Sessions watching, by their token's digest.
    viewers: Mutex<HashMap<Vec<u8>, Viewer>>,
}

struct Viewer {
    /// The audit entry to write when the view ends (who, from where, which camera).
    stop: Record,
    kind: StreamKind,
    start_us: i64,
    last_us: i64,
    _slot: Slot,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `GET /api/cameras/{name}/live.m3u8[?stream=main|sub]`: the live media playlist.
pub async fn playlist(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<StreamQuery>,
) -> Result<Response, WebError> {
    state.not_private(&cam.camera)?;
    let (kind, hub) = state
        .live_hub(&cam.camera, q.kind()?)
        .ok_or(WebError::NotFound)?;
    let feed = watching(&state, &cam, kind, Some(hub)).await?;
    let mut newest = feed.newest.subscribe();
    let _ = tokio::time::timeout(FIRST_SEGMENT_WAIT, newest.wait_for(Option::is_some)).await;
    let base = format!("hls/{}/", kind.as_str());
    let text = lock(&feed.window)
        .playlist(&base)
        .ok_or_else(|| WebError::Unavailable("no picture from the camera yet".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.apple.mpegurl"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        text,
    )
        .into_response())
}

/// `GET /api/cameras/{name}/hls/{stream}/{file}`: `init-N.mp4` or `N.m4s`, while
/// the feed keeps it.
pub async fn file(
    State(state): State<AppState>,
    cam: CameraAccess,
    Path((_, stream, file)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let kind = StreamKind::parse(&stream).ok_or(WebError::NotFound)?;
    let feed = watching(&state, &cam, kind, None).await?;
    let w = lock(&feed.window);
    let found = if let Some(id) = file
        .strip_prefix("init-")
        .and_then(|f| f.strip_suffix(".mp4"))
    {
        id.parse()
            .ok()
            .and_then(|id| w.init(id))
            .map(|b| (b, "video/mp4"))
    } else if let Some(seq) = file.strip_suffix(".m4s") {
        seq.parse()
            .ok()
            .and_then(|s| w.segment(s))
            .map(|b| (b, "video/iso.segment"))
    } else {
        None
    };
    drop(w);
    let (bytes, ctype) = found.ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        bytes,
    )
        .into_response())
}

/// Notes that `cam`'s session is watching the camera's `kind` stream, starting
/// its feed from `hub` when there is none (a request for a file names no hub: it
/// finds the running feed or nothing). A session's first request in a while
/// starts a live view in the audit log.
async fn watching(
    state: &AppState,
    cam: &CameraAccess,
    kind: StreamKind,
    hub: Option<Arc<Hub>>,
) -> Result<Arc<Feed>, WebError> {
    state.not_private(&cam.camera)?;
    let now = chrono::Utc::now().timestamp_micros();
    let session = cam.authed.token_hash.clone();
    let (feed, new_view) = {
        let mut feeds = lock(&state.hls.0);
        let key = (cam.camera.clone(), kind);
        let feed = match (feeds.get(&key), hub) {
            (Some(f), _) => f.clone(),
            (None, Some(hub)) => {
                let f = Arc::new(Feed {
                    window: Mutex::new(HlsWindow::new()),
                    newest: watch::Sender::new(None),
                    viewers: Mutex::new(HashMap::new()),
                });
                feeds.insert(key.clone(), f.clone());
                tokio::spawn(run(
                    state.clone(),
                    key,
                    f.clone(),
                    hub.subscribe_live(FEED_QUEUE),
                ));
                f
            }
            (None, None) => return Err(WebError::NotFound),
        };
        let mut viewers = lock(&feed.viewers);
        let new_view = match viewers.get_mut(&session) {
            Some(v) => {
                v.last_us = now;
                false
            }
            None => {
                let slot = super::live::live_slot(state, cam)?;
                viewers.insert(
                    session.clone(),
                    Viewer {
                        stop: cam.record(action::LIVE_STOP),
                        kind,
                        start_us: now,
                        last_us: now,
                        _slot: slot,
                    },
                );
                true
            }
        };
        drop(viewers);
        (feed, new_view)
    };
    if new_view {
        let r = state
            .audit(Record {
                from_us: Some(now),
                detail: Some(format!("{} stream over HLS", kind.as_str())),
                ..cam.record(action::LIVE_START)
            })
            .await;
        if let Err(e) = r {
            // Not watching after all: nothing was served.
            lock(&feed.viewers).remove(&session);
            return Err(e);
        }
    }
    Ok(feed)
}

/// A feed: frames into its window until the stream ends or nobody watches; each
/// viewer that stopped asking is audited as a live view that ended.
async fn run(
    state: AppState,
    key: Key,
    feed: Arc<Feed>,
    mut rx: tokio::sync::mpsc::Receiver<StreamEvent>,
) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let ending = loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                None => break "stream ended",
                Some(StreamEvent::Frame(f)) => {
                    let newest = {
                        let mut w = lock(&feed.window);
                        w.push(&f);
                        w.newest()
                    };
                    feed.newest.send_if_modified(|n| std::mem::replace(n, newest) != newest);
                }
                Some(StreamEvent::Gap { .. }) => lock(&feed.window).gap(),
                Some(StreamEvent::Audio(_)) => {}
            },
            _ = sweep.tick() => {
                let now = chrono::Utc::now().timestamp_micros();
                let (left, none_left) = {
                    // The map first, as in `watching`: a feed is dropped only
                    // while no request can be joining it.
                    let mut feeds = lock(&state.hls.0);
                    let mut viewers = lock(&feed.viewers);
                    let idle: Vec<Vec<u8>> = viewers
                        .iter()
                        .filter(|(_, v)| now - v.last_us > VIEWER_IDLE_US)
                        .map(|(k, _)| k.clone())
                        .collect();
                    let left: Vec<(Vec<u8>, Viewer)> = idle
                        .into_iter()
                        .filter_map(|k| viewers.remove(&k).map(|v| (k, v)))
                        .collect();
                    let none_left = viewers.is_empty();
                    if none_left {
                        feeds.remove(&key);
                    }
                    (left, none_left)
                };
                ended(&state, left, None).await;
                if none_left {
                    return;
                }
            }
        }
    };
    let left: Vec<(Vec<u8>, Viewer)> = {
        let mut feeds = lock(&state.hls.0);
        if feeds.get(&key).is_some_and(|f| Arc::ptr_eq(f, &feed)) {
            feeds.remove(&key);
        }
        lock(&feed.viewers).drain().collect()
    };
    ended(&state, left, Some(ending)).await;
}

/// Audits the end of each of these live views (by session): `why`, or else why
/// its session ended, or else that it stopped asking.
async fn ended(state: &AppState, viewers: Vec<(Vec<u8>, Viewer)>, why: Option<&str>) {
    for (session, v) in viewers {
        let session_end = state
            .blocking(move |s| super::auth::lookup(s, &session, false))
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(Result::err);
        let why = why
            .or(session_end.map(|r| r.as_str()))
            .unwrap_or("stopped asking");
        let kind = v.kind.as_str();
        let r = state
            .audit(Record {
                from_us: Some(v.start_us),
                to_us: Some(v.last_us),
                detail: Some(format!(
                    "watched {} s of the {kind} stream over HLS; ended: {why}",
                    (v.last_us - v.start_us) / 1_000_000
                )),
                ..v.stop
            })
            .await;
        if let Err(e) = r {
            tracing::error!("cannot audit the end of a live view: {e:?}");
        }
    }
}
