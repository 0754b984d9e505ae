//! The synthetic scene: a textured background, still for the first seconds of each
//! loop, then crossed by moving shapes for its last seconds (by default 12 s still,
//! 8 s of motion), drawn in YUV 4:2:0 and encoded once with libx264.

#![allow(
    clippy::cast_possible_truncation,
    reason = "pixel arithmetic of a synthetic picture; float to integer `as` saturates"
)]

use super::{Clip, EncodedFrame};
use crate::media::h264::{NAL_PPS, NAL_SPS, annexb_nals, nal_type};
use anyhow::{Context, anyhow};
use bytes::Bytes;
use ffmpeg_next as ff;

/// How a generated stream looks.
#[derive(Clone, Copy, Debug)]
pub struct SceneSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub kbps: u32,
    /// Seconds of the loop; a multiple of the 2-second GOP.
    pub seconds: u32,
    /// The last this many seconds of each loop have motion; the rest is still
    /// (and the encoded loop starts on a key frame, so times are exact).
    pub moving_seconds: u32,
}

impl SceneSpec {
    pub fn main() -> Self {
        SceneSpec {
            width: 1280,
            height: 720,
            fps: 15,
            kbps: 1500,
            seconds: 20,
            moving_seconds: 8,
        }
    }
    pub fn sub() -> Self {
        SceneSpec {
            width: 640,
            height: 360,
            fps: 10,
            kbps: 300,
            seconds: 20,
            moving_seconds: 8,
        }
    }
}

/// A small deterministic pseudo-random generator (xorshift), so scenes are the
/// same on every run.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// Draws frame `i` of the scene into the Y, U and V planes.
fn draw(spec: &SceneSpec, i: u32, bg: &[u8], planes: [(&mut [u8], usize); 3]) {
    let [(y, ys), (u, us), (v, vs)] = planes;
    let (w, h) = (spec.width as usize, spec.height as usize);
    for row in 0..h {
        y[row * ys..row * ys + w].copy_from_slice(&bg[row * w..(row + 1) * w]);
    }
    for row in 0..h / 2 {
        u[row * us..row * us + w / 2].fill(128);
        v[row * vs..row * vs + w / 2].fill(128);
    }
    // The loop opens still; shapes come through for its last `moving_seconds` and
    // are gone when it starts again.
    let loop_frames = spec.seconds * spec.fps;
    let still_frames = loop_frames.saturating_sub(spec.moving_seconds * spec.fps);
    let k = i % loop_frames;
    if k < still_frames {
        return;
    }
    let t = (k - still_frames) as f32 / spec.fps as f32;
    let shapes = [
        (0.20f32, 0.18f32, 0.25f32, 60u8, 200u8),
        (0.12, 0.22, -0.35, 230, 60),
    ];
    for (n, &(size, yfrac, speed, luma, chroma)) in shapes.iter().enumerate() {
        let sw = (w as f32 * size) as usize & !1;
        let sh = (h as f32 * size * 1.6) as usize & !1;
        let span = (w - sw) as f32;
        let phase = (t * speed + n as f32 * 0.4).rem_euclid(2.0);
        let x = ((if phase < 1.0 { phase } else { 2.0 - phase }) * span) as usize & !1;
        let top = ((h as f32 * yfrac) as usize + n * h / 3) & !1;
        for row in top..(top + sh).min(h) {
            for col in x..x + sw {
                // Textured, so the encoder spends bits on it as on a real object.
                let tex = ((col - x) / 8 + (row - top) / 8) % 2;
                y[row * ys + col] = luma.wrapping_add(tex as u8 * 40);
            }
        }
        for row in top / 2..((top + sh) / 2).min(h / 2) {
            u[row * us + x / 2..row * us + (x + sw) / 2].fill(chroma);
            v[row * vs + x / 2..row * vs + (x + sw) / 2].fill(255 - chroma);
        }
    }
}

/// Encodes the whole loop of a scene.
pub fn encode(spec: &SceneSpec) -> anyhow::Result<Clip> {
    ff::init().context("cannot initialise FFmpeg")?;
    ff::util::log::set_level(ff::util::log::Level::Error);
    let codec = ff::encoder::find_by_name("libx264")
        .ok_or_else(|| anyhow!("FFmpeg has no libx264 encoder"))?;
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()?;
    let gop = 2 * spec.fps;
    enc.set_width(spec.width);
    enc.set_height(spec.height);
    enc.set_format(ff::format::Pixel::YUV420P);
    enc.set_time_base((1, spec.fps as i32));
    enc.set_frame_rate(Some((spec.fps as i32, 1)));
    enc.set_gop(gop);
    enc.set_max_b_frames(0);
    enc.set_bit_rate(spec.kbps as usize * 1000);
    enc.set_max_bit_rate(spec.kbps as usize * 1000);
    let mut opts = ff::Dictionary::new();
    opts.set("preset", "veryfast");
    opts.set("profile", "main");
    opts.set(
        "x264-params",
        &format!(
            "keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1:\
             vbv-bufsize={}:rc-lookahead=10",
            spec.kbps
        ),
    );
    let mut enc = enc.open_with(opts).context("cannot open libx264")?;
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut rng = Rng(0x9e37_79b9);
    let bg: Vec<u8> = (0..w * h)
        .map(|p| {
            let (x, y) = (p % w, p / w);
            (60 + (x * 80 / w) + (y * 60 / h)) as u8 + (rng.next() % 24) as u8
        })
        .collect();
    let mut frames = Vec::new();
    let mut sps = None;
    let mut pps = None;
    let mut packet = ff::Packet::empty();
    let mut collect = |enc: &mut ff::encoder::Video, frames: &mut Vec<EncodedFrame>| {
        while enc.receive_packet(&mut packet).is_ok() {
            let data = packet.data().unwrap_or_default();
            let mut nals = Vec::new();
            for n in annexb_nals(data) {
                match nal_type(n) {
                    NAL_SPS => sps = Some(Bytes::copy_from_slice(n)),
                    NAL_PPS => pps = Some(Bytes::copy_from_slice(n)),
                    _ => {}
                }
                nals.push(Bytes::copy_from_slice(n));
            }
            frames.push(EncodedFrame {
                nals,
                key: packet.is_key(),
            });
        }
    };
    let total = spec.seconds * spec.fps;
    for i in 0..total {
        let mut f = ff::frame::Video::new(ff::format::Pixel::YUV420P, spec.width, spec.height);
        let strides = [f.stride(0), f.stride(1), f.stride(2)];
        // Split the frame into its three planes so all can be written at once.
        let (y, u, v) = unsafe_planes(&mut f);
        draw(
            spec,
            i,
            &bg,
            [(y, strides[0]), (u, strides[1]), (v, strides[2])],
        );
        f.set_pts(Some(i64::from(i)));
        if i % gop == 0 {
            f.set_kind(ff::picture::Type::I);
        }
        enc.send_frame(&f)?;
        collect(&mut enc, &mut frames);
    }
    enc.send_eof()?;
    collect(&mut enc, &mut frames);
    let (Some(sps), Some(pps)) = (sps, pps) else {
        return Err(anyhow!("libx264 produced no parameter sets"));
    };
    if frames.first().is_none_or(|f| !f.key) {
        return Err(anyhow!("the encoded loop does not start with a key frame"));
    }
    Ok(Clip {
        width: spec.width,
        height: spec.height,
        fps: spec.fps,
        sps,
        pps,
        frames,
    })
}

/// The three planes of a YUV 4:2:0 frame as separate mutable slices.
fn unsafe_planes(f: &mut ff::frame::Video) -> (&mut [u8], &mut [u8], &mut [u8]) {
    let lens = [f.data(0).len(), f.data(1).len(), f.data(2).len()];
    let ptrs = [
        f.data_mut(0).as_mut_ptr(),
        f.data_mut(1).as_mut_ptr(),
        f.data_mut(2).as_mut_ptr(),
    ];
    // SAFETY: FFmpeg allocates the planes of a frame as disjoint buffers; each slice
    // covers exactly one plane and lives no longer than the borrow of `f`.
    unsafe {
        (
            std::slice::from_raw_parts_mut(ptrs[0], lens[0]),
            std::slice::from_raw_parts_mut(ptrs[1], lens[1]),
            std::slice::from_raw_parts_mut(ptrs[2], lens[2]),
        )
    }
}
