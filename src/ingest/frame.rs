//! The unit that flows from ingest to its consumers: one encoded video frame, and
//! the codec parameters that describe it.

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
    /// Changes whenever the RTSP session is new: timestamps of different
    /// sessions are unrelated.
    pub session: u64,
    /// Presentation time in 90 kHz units, extended so it never wraps.
    pub pts: i64,
    /// Wall-clock time when the frame arrived, in microseconds since the Unix epoch.
    pub wall_us: i64,
    pub key: bool,
    pub data: Bytes,
    pub params: Arc<VideoParams>,
}
