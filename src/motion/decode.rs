//! Decoding a camera stream's frames (H.264 or H.265, length-prefixed as Hearth
//! receives them) with FFmpeg: in software, or for live detection with the
//! board's V4L2 memory-to-memory decoder where there is one (a Raspberry Pi 4's).

use crate::config::DecoderChoice;
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
    /// FFmpeg's name of the decoder: `h264`, or `h264_v4l2m2m` in hardware.
    name: &'static str,
    hardware: bool,
}

/// FFmpeg's V4L2 memory-to-memory decoder for a codec.
fn hardware_name(id: ff::codec::Id) -> Option<&'static str> {
    match id {
        ff::codec::Id::H264 => Some("h264_v4l2m2m"),
        ff::codec::Id::HEVC => Some("hevc_v4l2m2m"),
        _ => None,
    }
}

/// Whether to try the hardware decoder first, for a choice; `failed` says it
/// has already failed on this stream (`auto` then stays in software).
pub fn tries_hardware(choice: DecoderChoice, failed: bool) -> bool {
    match choice {
        DecoderChoice::Auto => !failed,
        DecoderChoice::Hardware => true,
        DecoderChoice::Software => false,
    }
}

/// Pictures a hardware decoder may hold back before it counts as not working:
/// V4L2 decoders queue a few frames, a working one answers well within this.
pub const HARDWARE_PATIENCE: u32 = 60;

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

fn codec_name(id: ff::codec::Id) -> &'static str {
    match id {
        ff::codec::Id::HEVC => "hevc",
        _ => "h264",
    }
}

impl StreamDecoder {
    /// A software decoder for the stream.
    pub fn new(params: &VideoParams) -> anyhow::Result<StreamDecoder> {
        StreamDecoder::open(params, false)
    }

    /// The stream's hardware decoder, or why there is none here.
    pub fn hardware(params: &VideoParams) -> anyhow::Result<StreamDecoder> {
        StreamDecoder::open(params, true)
    }

    fn open(params: &VideoParams, hardware: bool) -> anyhow::Result<StreamDecoder> {
        ff::init().context("cannot initialise FFmpeg")?;
        // Quiet: FFmpeg's own lines would go to stderr past the log's format (a
        // JSON journal), and `auto` expects the hardware decoder to fail where
        // there is none. What fails is reported by the callers, by camera.
        ff::util::log::set_level(ff::util::log::Level::Quiet);
        let (record, id) = config_record(&params.sample_entry)
            .ok_or_else(|| anyhow!("no decoder configuration for {}", params.codec))?;
        let name = if hardware {
            hardware_name(id).ok_or_else(|| anyhow!("no hardware decoder is known for {id:?}"))?
        } else {
            codec_name(id)
        };
        let codec = if hardware {
            ff::decoder::find_by_name(name)
                .ok_or_else(|| anyhow!("this FFmpeg has no {name} decoder"))?
        } else {
            ff::decoder::find(id).ok_or_else(|| anyhow!("FFmpeg cannot decode {id:?}"))?
        };
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
        let decoder = if hardware {
            // The V4L2 wrapper opens the board's decoder device here: without
            // one (no /dev/video* that decodes this codec) it fails.
            ctx.decoder()
                .video()
                .with_context(|| format!("cannot open {name} (no V4L2 decoder device?)"))?
        } else {
            open_for_detection(ctx).context("cannot open the decoder")?
        };
        Ok(StreamDecoder {
            decoder,
            frame: ff::frame::Video::empty(),
            name,
            hardware,
        })
    }

    /// FFmpeg's name of the decoder in use.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn is_hardware(&self) -> bool {
        self.hardware
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

    #[test]
    fn auto_tries_the_hardware_until_it_fails_and_software_never() {
        assert!(tries_hardware(DecoderChoice::Auto, false));
        assert!(!tries_hardware(DecoderChoice::Auto, true));
        assert!(tries_hardware(DecoderChoice::Hardware, true));
        assert!(!tries_hardware(DecoderChoice::Software, false));
        assert_eq!(hardware_name(ff::codec::Id::H264), Some("h264_v4l2m2m"));
        assert_eq!(hardware_name(ff::codec::Id::MJPEG), None);
    }
}
