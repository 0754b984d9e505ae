//! The units that flow from ingest to its consumers: encoded video and audio
//! frames, and the codec parameters that describe them.

use bytes::Bytes;
use std::sync::Arc;

/// Codec parameters of a video stream, as needed to write and describe recordings.
#[derive(Debug, PartialEq, Eq)]
pub struct VideoParams {
    /// RFC 6381 codec string, e.g. `avc1.64001f`.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// The complete MP4 sample entry box (`avc1` or `hvc1`).
    pub sample_entry: Vec<u8>,
}

/// One encoded picture, length-prefixed NAL units as in MP4 samples.
#[derive(Debug)]
pub struct Frame {
    /// The timeline: changes whenever the RTSP session is new or its clock model
    /// re-anchored; timestamps of different timelines are unrelated.
    pub session: u64,
    /// Presentation time in 90 kHz units since the session's PLAY (shared with
    /// the session's audio), extended so it never wraps, with the clock model's
    /// slewed correction applied (`media::clock`).
    pub pts: i64,
    /// The frame's wall time under the session's clock model (near its arrival,
    /// and as smooth as `pts`), in microseconds since the Unix epoch. Recording,
    /// motion detection and live view all go by it.
    pub wall_us: i64,
    pub key: bool,
    pub data: Bytes,
    pub params: Arc<VideoParams>,
    /// The session's audio parameters, when its audio is being received.
    pub audio: Option<Arc<AudioParams>>,
}

impl Frame {
    /// Whether the frame's codec parameters are `known` (cheaply when they are the
    /// same `Arc`): a consumer otherwise starts over (decoder, init segment, file).
    pub fn has_params(&self, known: &Arc<VideoParams>) -> bool {
        Arc::ptr_eq(known, &self.params) || **known == *self.params
    }
}

/// Codec parameters of an audio stream (AAC).
#[derive(Debug, PartialEq, Eq)]
pub struct AudioParams {
    pub codec: String,
    /// Samples per second: the audio track's timescale.
    pub clock_rate: u32,
    /// The complete MP4 sample entry box (`mp4a`).
    pub sample_entry: Vec<u8>,
}

impl AudioParams {
    /// Whether `a` and `b` describe the same audio (cheaply when they are the
    /// same `Arc`), as [`Frame::has_params`] does for video.
    pub fn same(a: &Arc<AudioParams>, b: &Arc<AudioParams>) -> bool {
        Arc::ptr_eq(a, b) || **a == **b
    }
}

/// One encoded audio frame (an AAC access unit).
#[derive(Debug)]
pub struct AudioFrame {
    pub session: u64,
    /// Presentation time in `params.clock_rate` units since the session's PLAY.
    pub pts: i64,
    /// Length in `params.clock_rate` units.
    pub duration: u32,
    pub data: Bytes,
    pub params: Arc<AudioParams>,
}

impl AudioFrame {
    /// The presentation time on the video clock (90 kHz).
    pub fn pts_90k(&self) -> i64 {
        self.pts * 90_000 / i64::from(self.params.clock_rate.max(1))
    }
}

#[cfg(test)]
impl Frame {
    /// An empty frame with these times, for tests.
    pub fn for_test(pts: i64, wall_us: i64, key: bool) -> Arc<Frame> {
        Arc::new(Frame {
            session: 1,
            pts,
            wall_us,
            key,
            data: Bytes::new(),
            params: Arc::new(VideoParams {
                codec: String::new(),
                width: 1,
                height: 1,
                sample_entry: Vec::new(),
            }),
            audio: None,
        })
    }
}
