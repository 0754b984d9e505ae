//! Live view: fMP4 fragments over a WebSocket into the browser's Media Source
//! Extensions. A viewer starts at the current GOP's key frame at once (the hub
//! keeps it). The stream is tied to its session ([`SessionWatch`]) and ends when
//! the session or the camera permission does. Start and stop, with the duration
//! watched and why it ended, go to the audit log. With `audio=true`, the
//! camera's sound comes along as a second track when the camera sends it.

use super::auth::CameraAccess;
use super::conn_limit::Slot;
use super::error::WebError;
use super::live_still::stream_kind;
use super::session_watch::SessionWatch;
use super::state::AppState;
use crate::ingest::frame::{AudioParams, VideoParams};
use crate::ingest::hub::{Hub, StreamEvent};
use crate::media::fmp4::{
    AUDIO_TRACK, AudioTrack, Run, Sample, VIDEO_TRACK, fragment_header, init_segment,
};
use crate::security::audit_chain::{Record, action};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::response::Response;
use std::sync::Arc;

/// Frames a slow viewer may fall behind by before it skips to the next GOP.
const VIEWER_QUEUE: usize = 256;
/// A ping this often while no frame is sent, so a quiet stream is not idle.
const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(serde::Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    stream: Option<String>,
    /// The camera's sound too, when it sends any.
    #[serde(default)]
    audio: bool,
}

/// Why a live view ended.
enum Ending {
    ViewerLeft,
    StreamEnded,
    Session(crate::store::EndReason),
}

impl Ending {
    fn as_str(&self) -> &'static str {
        match self {
            Ending::ViewerLeft => "viewer left",
            Ending::StreamEnded => "stream ended",
            Ending::Session(r) => r.as_str(),
        }
    }
}

/// `GET /api/cameras/{name}/live` (WebSocket).
pub async fn live(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<LiveQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, WebError> {
    state.not_private(&cam.camera)?;
    let (kind, hub) = state
        .live_hub(&cam.camera, stream_kind(q.stream.as_deref())?)
        .ok_or(WebError::NotFound)?;
    let sound = if q.audio { " with sound" } else { "" };
    let slot = live_slot(&state, &cam)?;
    let start_us = chrono::Utc::now().timestamp_micros();
    state
        .audit(Record {
            from_us: Some(start_us),
            detail: Some(format!("{} stream{sound}", kind.as_str())),
            ..cam.record(action::LIVE_START)
        })
        .await?;
    let watch = SessionWatch::new(&cam.authed, Some(&cam.camera));
    Ok(ws.on_upgrade(move |socket| async move {
        let ending = stream(socket, hub, kind, q.audio, &state, &watch).await;
        drop(slot);
        let end_us = chrono::Utc::now().timestamp_micros();
        let r = state
            .audit(Record {
                from_us: Some(start_us),
                to_us: Some(end_us),
                detail: Some(format!(
                    "watched {} s of the {} stream{sound}; ended: {}",
                    (end_us - start_us) / 1_000_000,
                    kind.as_str(),
                    ending.as_str()
                )),
                ..cam.record(action::LIVE_STOP)
            })
            .await;
        if let Err(e) = r {
            tracing::error!("cannot audit the end of a live view: {e:?}");
        }
    }))
}

/// One of the user's live views (over a WebSocket or HLS), while they have
/// fewer than the limit open and all users together do too.
pub(super) fn live_slot(state: &AppState, cam: &CameraAccess) -> Result<Slot, WebError> {
    Slot::take(&state.live_viewers, cam.authed.user.id.to_string()).ok_or_else(|| {
        WebError::TooMany("too many live views open; close one and try again".into())
    })
}

/// Sends a JSON description, an init segment and then a fragment per frame (and
/// per audio frame with `audio`), until the viewer leaves, the stream ends or the
/// session does.
async fn stream(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    kind: crate::config::StreamKind,
    audio: bool,
    state: &AppState,
    watch: &SessionWatch,
) -> Ending {
    let mut rx = hub.subscribe_live(VIEWER_QUEUE);
    let mut params: Option<Arc<VideoParams>> = None;
    // The audio track of the init segment sent, if it has one.
    let mut sound: Option<Arc<AudioParams>> = None;
    let (mut base, mut last_pts, mut interval, mut seq) = (0i64, 0i64, 6000i64, 0u32);
    let ended = watch.ended(state);
    tokio::pin!(ended);
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ending::ViewerLeft,
                Some(Ok(_)) => continue,
            },
            why = &mut ended => {
                let frame = CloseFrame {
                    code: close_code::POLICY,
                    reason: format!("session ended: {}", why.as_str()).into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return Ending::Session(why);
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return Ending::ViewerLeft;
                }
                continue;
            }
        };
        ping.reset();
        let f = match ev {
            None => return Ending::StreamEnded,
            Some(StreamEvent::Frame(f)) => f,
            Some(StreamEvent::Gap { .. }) => {
                params = None;
                continue;
            }
            Some(StreamEvent::Audio(a)) => {
                // On the video's clock: decode times share its base.
                let Some(s) = sound.as_ref().filter(|s| AudioParams::same(s, &a.params)) else {
                    continue;
                };
                let at = a.pts - base * i64::from(s.clock_rate) / 90_000;
                if params.is_none() || at < 0 {
                    continue;
                }
                seq = seq.wrapping_add(1);
                let msg = fragment(seq, AUDIO_TRACK, at, a.duration, true, &a.data);
                if socket.send(Message::Binary(msg.into())).await.is_err() {
                    return Ending::ViewerLeft;
                }
                continue;
            }
        };
        let wanted = f.audio.as_ref().filter(|_| audio);
        let same_sound = match (wanted, &sound) {
            (None, None) => true,
            (Some(a), Some(s)) => AudioParams::same(a, s),
            _ => false,
        };
        let fresh = !same_sound || params.as_ref().is_none_or(|p| !f.has_params(p));
        if fresh {
            if !f.key {
                continue;
            }
            let p = &f.params;
            sound = wanted.cloned();
            let desc = serde_json::json!({
                "codec": p.codec, "width": p.width, "height": p.height, "stream": kind.as_str(),
                "audio": sound.as_ref().map(|s| s.codec.as_str()),
            });
            let entry;
            let track = match &sound {
                Some(s) => {
                    entry = [s.sample_entry.as_slice()];
                    Some(AudioTrack {
                        entries: &entry,
                        timescale: s.clock_rate,
                    })
                }
                None => None,
            };
            let init = init_segment(&[&p.sample_entry], p.width, p.height, track);
            if socket
                .send(Message::Text(desc.to_string().into()))
                .await
                .is_err()
                || socket.send(Message::Binary(init.into())).await.is_err()
            {
                return Ending::ViewerLeft;
            }
            params = Some(f.params.clone());
            // Decode times continue across a new init, so the player's clock runs on.
            base = f.pts - (last_pts - base + interval).max(0);
        } else if f.pts > last_pts {
            interval = (f.pts - last_pts).clamp(1, 90_000);
        }
        last_pts = f.pts;
        seq = seq.wrapping_add(1);
        let duration = u32::try_from(interval).unwrap_or(1);
        let msg = fragment(seq, VIDEO_TRACK, f.pts - base, duration, f.key, &f.data);
        if socket.send(Message::Binary(msg.into())).await.is_err() {
            return Ending::ViewerLeft;
        }
    }
}

/// A fragment of one sample of `track` at decode time `at` (negative: 0).
fn fragment(seq: u32, track: u32, at: i64, duration: u32, key: bool, data: &[u8]) -> Vec<u8> {
    let sample = [Sample {
        duration,
        size: crate::media::len_u32(data.len()),
        key,
    }];
    let mut msg = fragment_header(
        seq,
        &[Run {
            track_id: track,
            base_decode_time: at.max(0).unsigned_abs(),
            sample_description_index: 1,
            samples: &sample,
        }],
    );
    msg.extend_from_slice(data);
    msg
}
