//! A camera's connection test: one RTSP session (DESCRIBE, SETUP, PLAY, first
//! frames) through the same code that records, watched for a few seconds and
//! then dropped, so an admin sees what the camera sends or why it sends nothing.
//! It never reconnects and never outlasts its time limit.

use super::frame::Frame;
use super::health::Health;
use super::hub::{Hub, StreamEvent};
use super::rtsp::{self, StreamSpec};
use std::sync::Arc;
use std::time::Duration;

/// Video watched after the first key frame before the figures are taken (90 kHz).
const WATCH_90K: i64 = 3 * 90_000;
/// Frames enough for the figures, whatever their times say.
const MAX_FRAMES: usize = 600;

/// What a camera's stream turned out to be.
#[derive(Debug, Clone)]
pub struct Probe {
    /// RFC 6381 codec, e.g. `avc1.64001f`.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Frames per second by their timestamps, once two frames came.
    pub fps: Option<f64>,
    /// Bits per second over the frames watched.
    pub bitrate_bps: Option<f64>,
    /// The audio codec, when the camera sends AAC and audio was asked for.
    pub audio: Option<String>,
    /// The first key frame, for a still.
    pub key_frame: Arc<Frame>,
}

/// One frame's time and size, as the figures need them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub pts_90k: i64,
    pub bytes: usize,
}

/// Frame rate and bit rate of `samples` by their timestamps (pure): each frame
/// counts for the time to the next, so the last one is left out of the bytes.
pub fn rates(samples: &[Sample]) -> (Option<f64>, Option<f64>) {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return (None, None);
    };
    let span = last.pts_90k - first.pts_90k;
    if samples.len() < 2 || span <= 0 {
        return (None, None);
    }
    #[allow(clippy::cast_precision_loss)]
    let secs = span as f64 / 90_000.0;
    let frames = samples.len() - 1;
    let bytes: usize = samples[..frames].iter().map(|s| s.bytes).sum();
    #[allow(clippy::cast_precision_loss)]
    (Some(frames as f64 / secs), Some(bytes as f64 * 8.0 / secs))
}

/// Connects to `spec` and watches its video until [`WATCH_90K`] after the first
/// key frame, or until `within` has passed; the camera's error in words when it
/// sends no picture by then.
pub async fn probe(spec: StreamSpec, within: Duration) -> Result<Probe, String> {
    let hub = Hub::new();
    let health = Health::default();
    let mut rx = hub.subscribe(MAX_FRAMES + 16);
    let session = rtsp::one_session(&spec, &hub, &health);
    tokio::pin!(session);
    let deadline = tokio::time::sleep(within);
    tokio::pin!(deadline);
    let mut samples: Vec<Sample> = Vec::new();
    let mut key: Option<Arc<Frame>> = None;
    let mut ended: Option<String> = None;
    loop {
        tokio::select! {
            r = &mut session, if ended.is_none() => {
                let why = match r {
                    Ok(()) => "the camera ended the stream".to_owned(),
                    Err(e) => rtsp::one_line(&format!("{e:#}"), 300),
                };
                ended = Some(why);
            }
            ev = rx.recv() => match ev {
                Some(StreamEvent::Frame(f)) => {
                    if key.is_none() && f.key {
                        key = Some(f.clone());
                    }
                    if let Some(k) = &key {
                        if f.session == k.session {
                            samples.push(Sample { pts_90k: f.pts, bytes: f.data.len() });
                        }
                        if f.pts - k.pts >= WATCH_90K || samples.len() >= MAX_FRAMES {
                            break;
                        }
                    }
                }
                Some(StreamEvent::Audio(_)) => {}
                Some(StreamEvent::Gap { .. }) | None => if ended.is_some() { break },
            },
            () = &mut deadline => break,
        }
        // Frames already queued when the session ended still count.
        if ended.is_some() && rx.is_empty() {
            break;
        }
    }
    let Some(key) = key else {
        return Err(ended.unwrap_or_else(|| {
            let s = within.as_secs();
            if health.snapshot().connected_since.is_some() {
                format!("the camera answered PLAY but sent no key frame within {s} s")
            } else {
                format!("the camera did not answer DESCRIBE, SETUP and PLAY within {s} s")
            }
        }));
    };
    let (fps, bitrate_bps) = rates(&samples);
    Ok(Probe {
        codec: key.params.codec.clone(),
        width: key.params.width,
        height: key.params.height,
        fps,
        bitrate_bps,
        audio: key.audio.as_ref().map(|a| a.codec.clone()),
        key_frame: key,
    })
}

#[cfg(test)]
mod tests {
    use super::{Sample, rates};

    #[test]
    fn rates_go_by_timestamps() {
        let s: Vec<Sample> = (0..11)
            .map(|i| Sample {
                pts_90k: i * 9_000,
                bytes: 1_000,
            })
            .collect();
        let (fps, bps) = rates(&s);
        assert!((fps.unwrap() - 10.0).abs() < 1e-9);
        assert!((bps.unwrap() - 80_000.0).abs() < 1e-6);
        assert_eq!(rates(&s[..1]), (None, None));
        assert_eq!(rates(&[]), (None, None));
    }
}
