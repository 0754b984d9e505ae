//! Motion tuning's live preview: a few seconds of a camera's detection stream
//! (the current GOP and what follows) run through a detector made from the
//! settings being edited, not yet saved. The answer is what that detector saw:
//! each decision's score, whether it would count as motion, the moving blobs'
//! boxes and zones, over the last picture as a still. The page asks again as
//! the settings change. The stills a session sees share one audit entry per
//! camera for ten minutes, as live stills do.

use super::auth::CameraAccess;
use super::camera_form::MotionForm;
use super::error::WebError;
use super::media::audit_once_as;
use super::state::AppState;
use crate::ingest::frame::Frame;
use crate::ingest::hub::StreamEvent;
use crate::motion::analyser::Analyser;
use crate::security::audit_chain::{Record, action};
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Video run through the detector, from the first key frame (90 kHz).
const PREVIEW_90K: i64 = 3 * 90_000;
/// How long to wait for that much video.
const PREVIEW_WAIT: Duration = Duration::from_secs(8);
/// Frames at most.
const MAX_FRAMES: usize = 900;
const STILL_WIDTH: u32 = 960;

/// One decision of the preview's detector.
#[derive(Serialize)]
struct Step {
    /// Seconds from the first picture.
    t: f64,
    score: f32,
    motion: bool,
    boxes: Vec<[usize; 4]>,
    zones: Vec<String>,
}

/// What the detector saw, with the last picture it saw.
struct Seen {
    size: Option<(usize, usize)>,
    steps: Vec<Step>,
    still: Option<Vec<u8>>,
}

/// Frames of the camera's detection stream: from a key frame, [`PREVIEW_90K`] of
/// one timeline, or what came within [`PREVIEW_WAIT`].
async fn frames(hub: &crate::ingest::hub::Hub) -> Vec<Arc<Frame>> {
    let mut rx = hub.subscribe_live(MAX_FRAMES + 64);
    let mut out: Vec<Arc<Frame>> = Vec::new();
    let _ = tokio::time::timeout(PREVIEW_WAIT, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                StreamEvent::Frame(f) => {
                    match out.first() {
                        None if !f.key => continue,
                        Some(k) if k.session != f.session => break,
                        _ => {}
                    }
                    let done = out.first().is_some_and(|k| f.pts - k.pts >= PREVIEW_90K);
                    out.push(f);
                    if done || out.len() >= MAX_FRAMES {
                        break;
                    }
                }
                StreamEvent::Audio(_) => {}
                // Frames missing: what came before still shows something.
                StreamEvent::Gap { .. } => break,
            }
        }
    })
    .await;
    out
}

/// Decodes `frames` and runs them through a detector set up as `motion` says (blocking).
fn detect(frames: &[Arc<Frame>], motion: &MotionForm) -> anyhow::Result<Seen> {
    let mut steps = Vec::new();
    let mut analyser = Analyser::new(motion.detector());
    let Some(first) = frames.first() else {
        return Ok(Seen {
            size: None,
            steps,
            still: None,
        });
    };
    let mut decoder = crate::motion::decode::StreamDecoder::new(&first.params)?;
    let mut still = None;
    let last = frames.len() - 1;
    for (i, f) in frames.iter().enumerate() {
        if !f.has_params(&first.params) {
            break;
        }
        let Some(picture) = decoder.decode(&f.data, f.pts) else {
            continue;
        };
        #[allow(clippy::cast_precision_loss)]
        let t = (f.pts - first.pts) as f64 / 90_000.0;
        if let Some(d) = analyser.analyse(t, picture)? {
            steps.push(Step {
                t,
                score: d.score,
                motion: d.motion,
                boxes: d.boxes.iter().map(|b| [b.x0, b.y0, b.x1, b.y1]).collect(),
                zones: d.zones,
            });
        }
        if i == last {
            still = crate::motion::snapshot::jpeg(picture, STILL_WIDTH).ok();
        }
    }
    Ok(Seen {
        size: analyser.size(),
        steps,
        still,
    })
}

/// `POST /api/admin/cameras/{name}/motion-preview` with the motion settings
/// being edited.
pub async fn preview(
    State(state): State<AppState>,
    cam: CameraAccess,
    Json(motion): Json<MotionForm>,
) -> Result<Json<Value>, WebError> {
    state.not_private(&cam.camera)?;
    let (kind, hub) = state
        .live_hub(&cam.camera, None)
        .ok_or_else(|| WebError::Unavailable(format!("{} is not running", cam.camera)))?;
    let _turn = state.camera_tests.try_acquire().map_err(|_| {
        WebError::TooMany("two camera tests or previews are running; try again shortly".into())
    })?;
    let frames = frames(&hub).await;
    let Some(from_us) = frames.first().map(|f| f.wall_us) else {
        return Err(WebError::Unavailable(format!(
            "no picture from {} within {} s",
            cam.camera,
            PREVIEW_WAIT.as_secs()
        )));
    };
    let m = motion.clone();
    let seen = state
        .blocking(move |_| detect(&frames, &m))
        .await?
        .map_err(|e| WebError::Internal(format!("motion preview of {}: {e:#}", cam.camera)))?;
    audit_once_as(
        &state,
        &cam,
        (kind.as_str().to_owned(), 0, 0),
        Record {
            from_us: Some(from_us),
            detail: Some(format!("{} stream", kind.as_str())),
            ..cam.record(action::MOTION_PREVIEW)
        },
    )
    .await?;
    let d = motion.detector();
    Ok(Json(json!({
        "stream": kind.as_str(),
        "width": seen.size.map(|s| s.0),
        "height": seen.size.map(|s| s.1),
        "min_area": d.min_area,
        "min_frames": d.min_frames,
        "steps": seen.steps,
        "motion": seen.steps.iter().any(|s| s.motion),
        "still": seen.still.as_deref().map(super::camera_test::data_url),
    })))
}
