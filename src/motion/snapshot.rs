//! Event pictures: a decoded frame encoded as JPEG (FFmpeg's MJPEG encoder), at
//! full size for the snapshot and small for the thumbnail.

use anyhow::{Context, anyhow};
use ffmpeg_next as ff;

/// Width of thumbnails in event lists.
pub const THUMB_WIDTH: u32 = 192;

/// A key frame (encoded, with its stream's parameters) decoded and encoded as
/// a JPEG no wider than `max_width`: a still of a camera.
pub fn key_frame_jpeg(
    params: &crate::ingest::frame::VideoParams,
    data: &[u8],
    max_width: u32,
) -> anyhow::Result<Vec<u8>> {
    let picture = super::decode::StreamDecoder::new(params)?
        .decode_key_frame(data)
        .ok_or_else(|| anyhow!("the key frame did not decode"))?;
    jpeg(&picture, max_width)
}

/// Encodes `frame` as a JPEG no wider than `max_width`.
pub fn jpeg(frame: &ff::frame::Video, max_width: u32) -> anyhow::Result<Vec<u8>> {
    let (fw, fh) = (frame.width().max(2), frame.height().max(2));
    let w = fw.min(max_width).max(2) & !1;
    let h = u32::try_from(u64::from(fh) * u64::from(w) / u64::from(fw))
        .unwrap_or(u32::MAX)
        .max(2)
        & !1;
    let mut scaler = ff::software::scaling::Context::get(
        frame.format(),
        fw,
        fh,
        ff::format::Pixel::YUVJ420P,
        w,
        h,
        ff::software::scaling::Flags::BILINEAR,
    )?;
    let mut out = ff::frame::Video::empty();
    scaler.run(frame, &mut out)?;
    out.set_pts(Some(0));
    let codec = ff::encoder::find(ff::codec::Id::MJPEG)
        .ok_or_else(|| anyhow!("FFmpeg has no JPEG encoder"))?;
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()?;
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(ff::format::Pixel::YUVJ420P);
    enc.set_time_base((1, 25));
    // Quality: qscale 4 (of 2..31, lower is better) via the global quality.
    enc.set_quality(4);
    enc.set_global_quality(4 * 118);
    let mut enc = enc.open().context("cannot open the JPEG encoder")?;
    enc.send_frame(&out)?;
    enc.send_eof()?;
    let mut p = ff::Packet::empty();
    enc.receive_packet(&mut p)
        .context("the JPEG encoder gave nothing")?;
    Ok(p.data().unwrap_or_default().to_vec())
}
