//! Reads an MP4 (or any file FFmpeg opens) holding H.264 into a [`Clip`] to replay.

use super::{Clip, EncodedFrame};
use crate::media::h264::{length_prefixed_nals, parse_avcc};
use anyhow::{anyhow, bail};
use bytes::Bytes;
use ffmpeg_next as ff;
use std::path::Path;

pub fn load(path: &Path) -> anyhow::Result<Clip> {
    let (mut input, index) = crate::video_file::open(path)?;
    let stream = input
        .stream(index)
        .ok_or_else(|| anyhow!("{} has no video", path.display()))?;
    let par = stream.parameters();
    if par.id() != ff::codec::Id::H264 {
        bail!(
            "{}: the video is {:?}; only H.264 can be replayed",
            path.display(),
            par.id()
        );
    }
    // SAFETY: reading the codec parameters' extradata, owned by the open input.
    let (extradata, width, height) = unsafe {
        let p = &*par.as_ptr();
        let e = if p.extradata.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(p.extradata, p.extradata_size as usize).to_vec()
        };
        (e, p.width as u32, p.height as u32)
    };
    let avcc = parse_avcc(&extradata)
        .map_err(|e| anyhow!("{}: {e} (an MP4 with avcC is needed)", path.display()))?;
    let rate = stream.avg_frame_rate();
    let fps = if rate.denominator() > 0 && rate.numerator() > 0 {
        // Rounded to the nearest whole rate.
        let (num, den) = (i64::from(rate.numerator()), i64::from(rate.denominator()));
        u32::try_from((num + den / 2) / den).unwrap_or(1)
    } else {
        15
    };
    let mut frames = Vec::new();
    for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        let data = packet.data().unwrap_or_default();
        let nals = length_prefixed_nals(data, avcc.length_size)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        frames.push(EncodedFrame {
            nals: nals.into_iter().map(Bytes::copy_from_slice).collect(),
            key: packet.is_key(),
        });
    }
    // Start the loop on a key frame.
    let first_key = frames
        .iter()
        .position(|f| f.key)
        .ok_or_else(|| anyhow!("{}: no key frame", path.display()))?;
    frames.drain(..first_key);
    Ok(Clip {
        width,
        height,
        fps: fps.clamp(1, 120),
        sps: Bytes::from(avcc.sps[0].clone()),
        pps: Bytes::from(avcc.pps[0].clone()),
        frames,
    })
}
