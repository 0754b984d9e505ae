//! Live stills: the current GOP's key frame of a camera's stream as a JPEG, for
//! a wall tile in a browser that cannot play the video. Each key frame is
//! decoded once, whoever asks; the stills a session sees of a camera's stream
//! share one audit entry for ten minutes.

use super::auth::CameraAccess;
use super::error::WebError;
use super::media::audit_once_as;
use super::state::AppState;
use crate::config::StreamKind;
use crate::security::audit_chain::{Record, action};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Stills are no wider than this.
const STILL_WIDTH: u32 = 1280;

#[derive(serde::Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    pub stream: Option<String>,
}

impl StreamQuery {
    pub fn kind(&self) -> Result<Option<StreamKind>, WebError> {
        stream_kind(self.stream.as_deref())
    }
}

/// The `stream` query parameter, when there is one.
pub fn stream_kind(stream: Option<&str>) -> Result<Option<StreamKind>, WebError> {
    stream
        .map(|s| {
            StreamKind::parse(s).ok_or_else(|| WebError::BadRequest("stream is main or sub".into()))
        })
        .transpose()
}

/// `GET /api/cameras/{name}/live.jpg[?stream=main|sub]`
pub async fn still(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<StreamQuery>,
) -> Result<Response, WebError> {
    state.not_private(&cam.camera)?;
    let (kind, hub) = state
        .live_hub(&cam.camera, q.kind()?)
        .ok_or(WebError::NotFound)?;
    let frame = hub
        .key_frame()
        .ok_or_else(|| WebError::Unavailable("no picture from the camera yet".into()))?;
    let key = (cam.camera.clone(), kind);
    let cached = state
        .stills
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|(at, _)| *at == frame.wall_us)
        .map(|(_, jpeg)| jpeg.clone());
    let jpeg = match cached {
        Some(j) => j,
        None => {
            let f = frame.clone();
            let jpeg = state
                .blocking(move |_| -> anyhow::Result<bytes::Bytes> {
                    Ok(
                        crate::motion::snapshot::key_frame_jpeg(&f.params, &f.data, STILL_WIDTH)?
                            .into(),
                    )
                })
                .await?
                .map_err(|e| WebError::Internal(format!("live still of {}: {e:#}", cam.camera)))?;
            state
                .stills
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (frame.wall_us, jpeg.clone()));
            jpeg
        }
    };
    // A tile refreshes every two seconds: one entry per session, camera and
    // stream until ten minutes have passed.
    audit_once_as(
        &state,
        &cam,
        (kind.as_str().to_owned(), 0, 0),
        Record {
            from_us: Some(frame.wall_us),
            detail: Some(format!("{} stream", kind.as_str())),
            ..cam.record(action::LIVE_STILL)
        },
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
