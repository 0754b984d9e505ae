//! Live view: fMP4 fragments over a WebSocket into the browser's Media Source
//! Extensions. A viewer starts at the current GOP's key frame at once (the hub
//! keeps it). Start and stop, with the duration watched, go to the audit log.

use super::auth::CameraAccess;
use super::error::WebError;
use super::state::AppState;
use crate::ingest::frame::VideoParams;
use crate::ingest::hub::{Hub, StreamEvent};
use crate::media::fmp4::{Run, Sample, VIDEO_TRACK, fragment_header, init_segment};
use crate::security::audit_chain::{Record, action};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::Arc;

/// Frames a slow viewer may fall behind by before it skips to the next GOP.
const VIEWER_QUEUE: usize = 256;

/// `GET /api/cameras/{name}/live` (WebSocket).
pub async fn live(
    State(state): State<AppState>,
    cam: CameraAccess,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, WebError> {
    // Cross-site WebSocket hijacking: the page must be ours.
    let origin = headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if origin.split("://").nth(1) != Some(host) {
        return Err(WebError::Forbidden(
            "live view from another site refused".into(),
        ));
    }
    let hub = state
        .live
        .get(&cam.camera)
        .cloned()
        .ok_or(WebError::NotFound)?;
    let start_us = chrono::Utc::now().timestamp_micros();
    state
        .audit(Record {
            from_us: Some(start_us),
            ..cam.record(action::LIVE_START)
        })
        .await?;
    Ok(ws.on_upgrade(move |socket| async move {
        stream(socket, hub).await;
        let end_us = chrono::Utc::now().timestamp_micros();
        let r = state
            .audit(Record {
                from_us: Some(start_us),
                to_us: Some(end_us),
                detail: Some(format!("watched {} s", (end_us - start_us) / 1_000_000)),
                ..cam.record(action::LIVE_STOP)
            })
            .await;
        if let Err(e) = r {
            tracing::error!("cannot audit the end of a live view: {e:?}");
        }
    }))
}

/// Sends a JSON description, an init segment and then a fragment per frame, until
/// the viewer leaves or the stream ends.
async fn stream(mut socket: WebSocket, hub: Arc<Hub>) {
    let mut rx = hub.subscribe_live(VIEWER_QUEUE);
    let mut params: Option<Arc<VideoParams>> = None;
    let (mut base, mut last_pts, mut interval, mut seq) = (0i64, 0i64, 6000i64, 0u32);
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        let f = match ev {
            None => return,
            Some(StreamEvent::Frame(f)) => f,
            Some(StreamEvent::Gap { .. }) => {
                params = None;
                continue;
            }
            Some(StreamEvent::Audio(_)) => continue,
        };
        let fresh = params.as_ref().is_none_or(|p| !f.has_params(p));
        if fresh {
            if !f.key {
                continue;
            }
            let p = &f.params;
            let desc = serde_json::json!({"codec": p.codec, "width": p.width, "height": p.height});
            let init = init_segment(&[&p.sample_entry], p.width, p.height, None);
            if socket
                .send(Message::Text(desc.to_string().into()))
                .await
                .is_err()
                || socket.send(Message::Binary(init.into())).await.is_err()
            {
                return;
            }
            params = Some(f.params.clone());
            // Decode times continue across a new init, so the player's clock runs on.
            base = f.pts - (last_pts - base + interval).max(0);
        } else if f.pts > last_pts {
            interval = (f.pts - last_pts).clamp(1, 90_000);
        }
        last_pts = f.pts;
        seq = seq.wrapping_add(1);
        let sample = [Sample {
            duration: interval as u32,
            size: f.data.len() as u32,
            key: f.key,
        }];
        let mut msg = fragment_header(
            seq,
            &[Run {
                track_id: VIDEO_TRACK,
                base_decode_time: (f.pts - base).max(0) as u64,
                sample_description_index: 1,
                samples: &sample,
            }],
        );
        msg.extend_from_slice(&f.data);
        if socket.send(Message::Binary(msg.into())).await.is_err() {
            return;
        }
    }
}
