//! Stills of recorded moments: while a timeline is dragged, the key frame at or
//! before the moment under the pointer as a JPEG — from the sub stream when it
//! was recorded then (smaller to read and decode), else the main. Each picture
//! is decoded once and kept a while for whoever asks; a session's stills of a
//! camera share one audit entry per ten minutes, like its other pictures.

use super::auth::CameraAccess;
use super::error::WebError;
use super::live_still::stream_kind;
use super::media::audit_once_as;
use super::state::AppState;
use crate::config::StreamKind;
use crate::record::key_frame;
use crate::security::audit_chain::{Record, action};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Scrubbing stills are no wider than this.
const WIDTH: u32 = 640;
/// Pictures kept (about 40 KB each).
const KEEP: usize = 128;

/// Decoded stills by (segment, fragment offset), the most recently used last.
#[derive(Default)]
pub struct Kept(Mutex<VecDeque<((i64, u64), Bytes)>>);

impl Kept {
    fn get(&self, key: (i64, u64)) -> Option<Bytes> {
        let mut e = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let i = e.iter().position(|(k, _)| *k == key)?;
        let hit = e.remove(i)?;
        let jpeg = hit.1.clone();
        e.push_back(hit);
        Some(jpeg)
    }

    fn put(&self, key: (i64, u64), jpeg: Bytes) {
        let mut e = self.0.lock().unwrap_or_else(|p| p.into_inner());
        e.retain(|(k, _)| *k != key);
        if e.len() >= KEEP {
            e.pop_front();
        }
        e.push_back((key, jpeg));
    }
}

#[derive(serde::Deserialize)]
pub struct AtQuery {
    pub at: String,
    #[serde(default)]
    pub stream: Option<String>,
}

/// `GET /api/cameras/{name}/still.jpg?at=RFC3339[&stream=main|sub]`
pub async fn still(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<AtQuery>,
) -> Result<Response, WebError> {
    let at = super::api::parse_time("at", &q.at)?;
    let kinds = match stream_kind(q.stream.as_deref())? {
        Some(k) => vec![k],
        None => vec![StreamKind::Sub, StreamKind::Main],
    };
    let name = cam.camera.clone();
    let found = state
        .blocking(move |s| -> Result<_, WebError> {
            for kind in kinds {
                let segs = s.store.segments_between(&name, kind, at, at + 1)?;
                if let Some((seg, frag)) = key_frame::locate(&segs, at) {
                    return Ok(Some((kind, seg.clone(), frag)));
                }
            }
            Ok(None)
        })
        .await??;
    let (kind, seg, frag) = found.ok_or(WebError::NotFound)?;
    let key = (seg.id, frag.offset);
    let jpeg = match state.recorded_stills.get(key) {
        Some(j) => j,
        None => {
            let jpeg = state
                .blocking(move |s| -> anyhow::Result<Bytes> {
                    let f = key_frame::read(&s.footage, &seg, frag).map_err(anyhow::Error::msg)?;
                    Ok(crate::motion::snapshot::key_frame_jpeg(&f.params, &f.data, WIDTH)?.into())
                })
                .await?
                .map_err(|e| WebError::Internal(format!("still of {}: {e:#}", cam.camera)))?;
            state.recorded_stills.put(key, jpeg.clone());
            jpeg
        }
    };
    audit_once_as(
        &state,
        &cam,
        (String::new(), 0, 0),
        Record {
            from_us: Some(at),
            detail: Some(format!("stills while scrubbing, {} stream", kind.as_str())),
            ..cam.record(action::RECORDED_STILL)
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
