//! Pure codec and container code: ISO BMFF boxes, the fragmented MP4 writer and
//! reader, and H.264 and H.265 bitstream helpers. Nothing here does I/O beyond the reader's
//! `Read + Seek`, and nothing here imports the rest of Hearth.

pub mod boxes;
pub mod clock;
pub mod fmp4;
pub mod h264;
pub mod h265;
pub mod hls_window;
pub mod reader;

/// A length as the 32-bit field of a box or sample. Everything Hearth writes is
/// far smaller (ingest drops frames over [`MAX_FRAME_BYTES`], a fragment holds
/// at most ten seconds): saturating keeps a broken invariant from wrapping.
pub fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The largest encoded frame ingest passes on (a 4K key frame is a few MB).
pub const MAX_FRAME_BYTES: usize = 32 << 20;

/// The media timescale used for all video: RTP's 90 kHz clock.
pub const TIMESCALE: u32 = 90_000;
