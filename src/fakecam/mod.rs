//! The simulated camera behind `hearth fake-camera` and `hearth demo`: an RTSP
//! server (TCP interleaved) serving H.264 on `/main` and `/sub` (any path ending
//! so, e.g. `/cam3/main`) to any number of clients.
//!
//! The video is encoded once at start (a synthetic scene through libx264) or read
//! from an MP4, then replayed in a loop with continuous timestamps, so each extra
//! client costs almost nothing.

pub mod clip;
pub mod rtp;
pub mod scene;
pub mod server;

pub use server::{Auth, AuthScheme, Behaviour, FakeCamera};

use bytes::Bytes;

/// One encoded picture: its NAL units (no start codes, no length prefixes).
#[derive(Clone, Debug)]
pub struct EncodedFrame {
    pub nals: Vec<Bytes>,
    pub key: bool,
}

/// A loop of H.264 video, ready to be sent.
#[derive(Debug)]
pub struct Clip {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub sps: Bytes,
    pub pps: Bytes,
    /// Starts with a key frame; replayed from the start after the last frame.
    pub frames: Vec<EncodedFrame>,
}

impl Clip {
    /// 90 kHz ticks per frame.
    pub fn frame_ticks(&self) -> u32 {
        90_000 / self.fps.max(1)
    }
}
