//! Footage over HTTP: a seekable fMP4 of any time range (HTTP Range supported),
//! built from the index without decoding, and the same as a download. Every
//! playback and export is audited.

use super::api::RangeQuery;
use super::auth::CameraAccess;
use super::error::WebError;
use super::plan_cache;
use super::session_watch::{SessionWatch, Throttled};
use super::state::AppState;
use crate::footage::Footage;
use crate::record::export::{self, ExportError, Plan};
use crate::security::audit_chain::{Record, action};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

const CHUNK: u64 = 256 * 1024;
/// An audited playback is not audited again for the same range within this time.
const AUDIT_DEDUP_US: i64 = 10 * 60 * 1_000_000;

/// A Range header this server cannot satisfy (malformed, several ranges, or
/// outside the content).
#[derive(Debug, PartialEq, Eq)]
pub struct BadRange;

/// Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range against `len`.
/// `Ok(None)`: no Range header.
pub fn parse_range(h: Option<&HeaderValue>, len: u64) -> Result<Option<(u64, u64)>, BadRange> {
    let Some(h) = h else { return Ok(None) };
    let s = h.to_str().map_err(|_| BadRange)?.trim();
    let spec = s.strip_prefix("bytes=").ok_or(BadRange)?;
    if spec.contains(',') {
        return Err(BadRange);
    }
    let num = |v: &str| v.parse::<u64>().map_err(|_| BadRange);
    let (a, b) = spec.split_once('-').ok_or(BadRange)?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => (len.saturating_sub(num(n)?), len),
        (a, "") => (num(a)?, len),
        (a, b) => (num(a)?, num(b)?.saturating_add(1).min(len)),
    };
    if start >= end || start >= len {
        return Err(BadRange);
    }
    Ok(Some((start, end)))
}

/// Whether a Range may be served under `If-Range` (RFC 9110 13.1.5): no
/// If-Range, or the same strong ETag. A date never matches: plans have no
/// modification time.
pub fn if_range_holds(h: Option<&HeaderValue>, etag: &str) -> bool {
    h.is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag))
}

/// A range's plan and its ETag: kept from an earlier request while the index
/// still fingerprints the range the same, made (reading its `moof`s) otherwise.
pub(super) async fn plan(
    state: &AppState,
    cam: &CameraAccess,
    q: &RangeQuery,
) -> Result<(Arc<Plan>, String, i64, i64), WebError> {
    let (from, to, stream) = q.parse()?;
    let name = cam.camera.clone();
    let p = state
        .blocking(move |s| -> Result<_, ExportError> {
            let segs = s.store.segments_between(&name, stream, from, to)?;
            let fp = export::fingerprint(&segs, from, to);
            let key = (name, stream, from, to);
            let tag = plan_cache::etag(&fp);
            if let Some(p) = s.plans.get(&key, &fp) {
                return Ok((p, tag));
            }
            let p = Arc::new(export::plan_segments(&s.footage, &segs, &key.0, from, to)?);
            s.plans.put(key, fp, p.clone());
            Ok((p, tag))
        })
        .await?;
    match p {
        Ok((p, tag)) => Ok((p, tag, from, to)),
        Err(ExportError::Empty { .. }) => Err(WebError::NotFound),
        Err(ExportError::BadRange) => Err(WebError::BadRequest("to must be after from".into())),
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}

/// What a streamed response reads from: a plan's bytes, or a file's.
pub(super) trait Source: Send + Sync + 'static {
    /// Appends bytes `[from, to)` to `out`.
    fn read(&self, from: u64, to: u64, out: &mut Vec<u8>) -> std::io::Result<()>;
}

/// A plan's bytes, its files read through the footage (sealed ones decrypted).
pub(super) struct Planned(pub Arc<Plan>, pub Arc<Footage>);

impl Source for Planned {
    fn read(&self, from: u64, to: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
        self.0
            .write_range(&self.1, from, to, out)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Streams bytes `[start, end)` of a source, read off the runtime in chunks, for
/// as long as the session that asked may see the camera.
pub(super) fn body(
    state: &AppState,
    cam: &CameraAccess,
    source: Arc<dyn Source>,
    start: u64,
    end: u64,
) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let state = state.clone();
    let mut watch = Throttled::new(SessionWatch::new(&cam.authed, Some(&cam.camera)));
    let (user, camera) = (cam.authed.user.name.clone(), cam.camera.clone());
    tokio::task::spawn_blocking(move || {
        let mut at = start;
        while at < end {
            if let Err(why) = watch.check(&state) {
                let msg = format!("footage cut off: {}", why.as_str());
                tracing::info!(%user, %camera, "{msg} after {at} of {end} bytes");
                let _ = tx.blocking_send(Err(std::io::Error::other(msg)));
                return;
            }
            let to = (at + CHUNK).min(end);
            let mut buf = Vec::with_capacity(usize::try_from(to - at).unwrap_or(0));
            let r = source.read(at, to, &mut buf).map(|_| buf);
            let failed = r.is_err();
            if tx.blocking_send(r).is_err() || failed {
                return;
            }
            at = to;
        }
    });
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// Audits a view of footage; playback and pictures only once per session, camera
/// and range (or event) within a few minutes, since a player fetches in pieces.
/// No footage leaves before its entry has committed: a view counts as audited
/// only once its append succeeded, so a failed append is retried by the next
/// request, and parallel first requests each write their own.
async fn audit_once(
    state: &AppState,
    cam: &CameraAccess,
    what: &str,
    from: i64,
    to: i64,
    detail: Option<String>,
) -> Result<(), WebError> {
    let key = (format!("{detail:?}"), from, to);
    let record = Record {
        from_us: Some(from),
        to_us: Some(to),
        detail,
        ..cam.record(what)
    };
    audit_once_as(state, cam, key, record).await
}

/// [`audit_once`] for `record`, once per session, camera, action and `key`.
pub(super) async fn audit_once_as(
    state: &AppState,
    cam: &CameraAccess,
    (what, from, to): (String, i64, i64),
    record: Record,
) -> Result<(), WebError> {
    let now = chrono::Utc::now().timestamp_micros();
    let key = (
        cam.authed.token_hash.clone(),
        format!("{}/{}/{what}", cam.camera, record.action),
        from,
        to,
    );
    let seen = {
        let mut seen = state.audited.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, t| now - *t < AUDIT_DEDUP_US);
        seen.contains_key(&key)
    };
    if record.action != action::EXPORT && seen {
        return Ok(());
    }
    state.audit(record).await?;
    state
        .audited
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, now);
    Ok(())
}

/// The event id in `/api/cameras/{name}/events/{id}/…`.
#[derive(serde::Deserialize)]
pub struct EventPath {
    pub id: i64,
}

async fn picture(
    state: AppState,
    cam: CameraAccess,
    id: i64,
    thumb: bool,
) -> Result<Response, WebError> {
    let name = cam.camera.clone();
    let found = state
        .blocking(move |s| -> Result<_, WebError> {
            let pic = s
                .footage
                .event_picture(&name, id, thumb)
                .map_err(|e| WebError::Internal(format!("event {id}'s picture: {e}")))?;
            let ev = s.store.event(&name, id)?;
            Ok(ev.zip(pic))
        })
        .await??;
    let Some((ev, jpeg)) = found else {
        return Err(WebError::NotFound);
    };
    let detail = format!("event {id}{}", if thumb { " thumbnail" } else { "" });
    audit_once(
        &state,
        &cam,
        action::SNAPSHOT,
        ev.start_us,
        ev.end_us,
        Some(detail),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        jpeg,
    )
        .into_response())
}

/// `GET /api/cameras/{name}/events/{id}/snapshot.jpg`
pub async fn snapshot(
    State(state): State<AppState>,
    cam: CameraAccess,
    axum::extract::Path(p): axum::extract::Path<EventPath>,
) -> Result<Response, WebError> {
    picture(state, cam, p.id, false).await
}

/// `GET /api/cameras/{name}/events/{id}/thumb.jpg`
pub async fn thumbnail(
    State(state): State<AppState>,
    cam: CameraAccess,
    axum::extract::Path(p): axum::extract::Path<EventPath>,
) -> Result<Response, WebError> {
    picture(state, cam, p.id, true).await
}

/// `GET /api/cameras/{name}/view.mp4?from=&to=`: seekable playback.
pub async fn view(
    State(state): State<AppState>,
    cam: CameraAccess,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Result<Response, WebError> {
    let (plan, tag, from, to) = plan(&state, &cam, &q).await?;
    let len = plan.len;
    // A Range for other bytes than these (the recording changed since the
    // player's first request) gets the whole new response instead.
    let asked = headers
        .get(header::RANGE)
        .filter(|_| if_range_holds(headers.get(header::IF_RANGE), &tag));
    let range = match parse_range(asked, len) {
        Ok(r) => r,
        Err(BadRange) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response());
        }
    };
    audit_once(&state, &cam, action::PLAYBACK, from, to, None).await?;
    let (status, start, end) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
        None => (StatusCode::OK, 0, len),
    };
    let source = Arc::new(Planned(plan, state.footage.clone()));
    let mut resp = Response::new(body(&state, &cam, source, start, end));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

/// What playing or downloading a range gives, told before any footage moves.
#[derive(serde::Serialize)]
pub struct RangeInfo {
    /// The first frame's time: the video's time 0 (the key frame at or before `from`).
    pub first: String,
    /// The last frame's time.
    pub last: String,
    pub frames: u64,
    pub bytes: u64,
}

/// `GET /api/cameras/{name}/range?from=&to=`: a range's first and last frame and
/// its size, from the plan its playback will use. A player maps its video time
/// to the wall clock from `first`; no footage, so not audited.
pub async fn range_info(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<RangeQuery>,
) -> Result<axum::Json<RangeInfo>, WebError> {
    let (plan, ..) = plan(&state, &cam, &q).await?;
    let s = &plan.summary;
    Ok(axum::Json(RangeInfo {
        first: super::api::rfc3339(s.first_us),
        last: super::api::rfc3339(s.last_us),
        frames: s.frames,
        bytes: plan.len,
    }))
}

/// A download's file name: the camera and when it starts (UTC).
pub(super) fn file_name(camera: &str, from_us: i64) -> String {
    format!(
        "{camera}-{}.mp4",
        chrono::DateTime::<chrono::Utc>::from_timestamp_micros(from_us)
            .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_default()
    )
}

/// `GET /api/cameras/{name}/export.mp4?from=&to=`: the same bytes as a download.
pub async fn download(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<RangeQuery>,
) -> Result<Response, WebError> {
    let (plan, _, from, to) = plan(&state, &cam, &q).await?;
    audit_once(&state, &cam, action::EXPORT, from, to, None).await?;
    let name = file_name(&cam.camera, from);
    let len = plan.len;
    let source = Arc::new(Planned(plan, state.footage.clone()));
    let mut resp = Response::new(body(&state, &cam, source, 0, len));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_range_matches_only_the_same_strong_etag() {
        let v = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(if_range_holds(None, "\"ab\""));
        assert!(if_range_holds(Some(&v("\"ab\"")), "\"ab\""));
        assert!(!if_range_holds(Some(&v("\"cd\"")), "\"ab\""));
        assert!(!if_range_holds(Some(&v("W/\"ab\"")), "\"ab\""));
        assert!(!if_range_holds(
            Some(&v("Tue, 01 Dec 2026 10:00:00 GMT")),
            "\"ab\""
        ));
    }

    fn r(s: &str, len: u64) -> Result<Option<(u64, u64)>, BadRange> {
        parse_range(Some(&HeaderValue::from_str(s).unwrap()), len)
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(r("bytes=0-", 10), Ok(Some((0, 10))));
        assert_eq!(r("bytes=2-4", 10), Ok(Some((2, 5))));
        assert_eq!(r("bytes=-3", 10), Ok(Some((7, 10))));
        assert_eq!(r("bytes=5-100", 10), Ok(Some((5, 10))));
        assert!(r("bytes=10-", 10).is_err());
        assert!(r("bytes=4-2", 10).is_err());
        assert!(r("bytes=0-1,3-4", 10).is_err());
        assert!(r("items=0-1", 10).is_err());
        assert!(r("bytes=x-", 10).is_err());
        assert!(r("bytes=99999999999999999999-", 10).is_err());
    }
}
