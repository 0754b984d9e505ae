//! Pure codec and container code: ISO BMFF boxes, the fragmented MP4 writer and
//! reader, and H.264 and H.265 bitstream helpers. Nothing here does I/O beyond the reader's
//! `Read + Seek`, and nothing here imports the rest of Hearth.

pub mod boxes;
pub mod fmp4;
pub mod h264;
pub mod h265;
pub mod reader;

/// The media timescale used for all video: RTP's 90 kHz clock.
pub const TIMESCALE: u32 = 90_000;
