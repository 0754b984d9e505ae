//! Decoding a camera stream's frames (H.264 or H.265, length-prefixed as Hearth
//! receives them) with FFmpeg, in software.

use crate::ingest::frame::VideoParams;
use anyhow::{Context, anyhow};
use ffmpeg_next as ff;

/// Opens a video decoder set up for motion detection, live and offline alike: one
/// thread (cameras are many, cores few) and no deblocking filter, which saves about
/// a fifth of the decoding and changes nothing the detector can see: its median
/// filter at a third of the size smooths far more than block edges.
pub fn open_for_detection(
    mut ctx: ff::codec::context::Context,
) -> Result<ff::decoder::Video, ff::Error> {
    // SAFETY: plain fields of a context that is not open yet.
    unsafe {
        let raw = ctx.as_mut_ptr();
        (*raw).thread_count = 1;
        (*raw).skip_loop_filter = ff::ffi::AVDiscard::AVDISCARD_ALL;
    }
    ctx.decoder().video()
}

pub struct StreamDecoder {
    decoder: ff::decoder::Video,
    frame: ff::frame::Video,
}

/// The decoder configuration record inside a sample entry: the body of its
/// `avcC` or `hvcC` box.
fn config_record(entry: &[u8]) -> Option<(&[u8], ff::codec::Id)> {
    for (tag, id) in [
        (b"avcC", ff::codec::Id::H264),
        (b"hvcC", ff::codec::Id::HEVC),
    ] {
        if let Some(pos) = entry.windows(4).position(|w| w == tag) {
            let start = pos.checked_sub(4)?;
            let size = u32::from_be_bytes(entry.get(start..pos)?.try_into().ok()?) as usize;
            return Some((entry.get(pos + 4..start.checked_add(size)?)?, id));
        }
    }
    None
}

impl StreamDecoder {
    pub fn new(params: &VideoParams) -> anyhow::Result<StreamDecoder> {
        ff::init().context("cannot initialise FFmpeg")?;
        ff::util::log::set_level(ff::util::log::Level::Error);
        let (record, id) = config_record(&params.sample_entry)
            .ok_or_else(|| anyhow!("no decoder configuration for {}", params.codec))?;
        let codec = ff::decoder::find(id).ok_or_else(|| anyhow!("FFmpeg cannot decode {id:?}"))?;
        let mut ctx = ff::codec::context::Context::new_with_codec(codec);
        // SAFETY: the context owns `extradata` from here on and frees it with
        // av_free; the buffer is zero-padded as FFmpeg requires.
        unsafe {
            let pad = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
            let buf = ff::ffi::av_mallocz(record.len() + pad) as *mut u8;
            if buf.is_null() {
                return Err(anyhow!("out of memory"));
            }
            std::ptr::copy_nonoverlapping(record.as_ptr(), buf, record.len());
            let raw = ctx.as_mut_ptr();
            (*raw).extradata = buf;
            (*raw).extradata_size = i32::try_from(record.len()).unwrap_or(0);
        }
        let decoder = open_for_detection(ctx).context("cannot open the decoder")?;
        Ok(StreamDecoder {
            decoder,
            frame: ff::frame::Video::empty(),
        })
    }

    /// Decodes a key frame on its own (the decoder drained after it): a still.
    pub fn decode_key_frame(mut self, data: &[u8]) -> Option<ff::frame::Video> {
        let mut p = ff::Packet::copy(data);
        p.set_pts(Some(0));
        self.decoder.send_packet(&p).ok()?;
        self.decoder.send_eof().ok()?;
        self.decoder.receive_frame(&mut self.frame).ok()?;
        Some(self.frame)
    }

    /// Decodes one access unit; returns the picture it completed, if any.
    pub fn decode(&mut self, data: &[u8], pts: i64) -> Option<&ff::frame::Video> {
        let mut p = ff::Packet::copy(data);
        p.set_pts(Some(pts));
        p.set_dts(Some(pts));
        if self.decoder.send_packet(&p).is_err() {
            return None;
        }
        self.decoder.receive_frame(&mut self.frame).ok()?;
        Some(&self.frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_sample_entry_has_no_record() {
        assert!(config_record(b"avcC").is_none());
        assert!(config_record(b"\0\0\0\x04avcC").is_none());
        assert!(config_record(b"\xff\xff\xff\xffavcC").is_none());
        let ok = config_record(b"xx\0\0\0\x0bavcC123").expect("record");
        assert_eq!(ok.0, b"123");
    }
}
