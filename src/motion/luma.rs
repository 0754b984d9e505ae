//! Decoded pictures to the detector's small luma pictures: FFmpeg's scaler to
//! grey at about 120 lines, copied out without row padding.

use ffmpeg_next as ff;

/// Analysis height: small enough to be cheap on a Raspberry Pi, large enough for
/// a person at the far side of a garden.
pub const ANALYSIS_HEIGHT: u32 = 120;

/// The analysis size for a picture, keeping its shape (even width).
pub fn analysis_size(width: u32, height: u32) -> (u32, u32) {
    let h = ANALYSIS_HEIGHT.min(height.max(2));
    let w = u32::try_from(u64::from(width) * u64::from(h) / u64::from(height.max(1)))
        .unwrap_or(u32::MAX)
        .max(2)
        & !1;
    (w, h)
}

pub struct LumaScaler {
    scaler: ff::software::scaling::Context,
    out: ff::frame::Video,
    pub width: usize,
    pub height: usize,
    buf: Vec<u8>,
}

impl LumaScaler {
    pub fn new(from: &ff::frame::Video) -> Result<LumaScaler, ff::Error> {
        let (w, h) = analysis_size(from.width(), from.height());
        let scaler = ff::software::scaling::Context::get(
            from.format(),
            from.width(),
            from.height(),
            ff::format::Pixel::GRAY8,
            w,
            h,
            ff::software::scaling::Flags::AREA,
        )?;
        Ok(LumaScaler {
            scaler,
            out: ff::frame::Video::empty(),
            width: w as usize,
            height: h as usize,
            buf: vec![0; (w * h) as usize],
        })
    }

    /// True when `f` still fits this scaler (same size and format).
    pub fn fits(&self, f: &ff::frame::Video) -> bool {
        let i = self.scaler.input();
        i.width == f.width() && i.height == f.height() && i.format == f.format()
    }

    /// The picture as `width` × `height` grey bytes.
    pub fn scale(&mut self, f: &ff::frame::Video) -> Result<&[u8], ff::Error> {
        self.scaler.run(f, &mut self.out)?;
        let stride = self.out.stride(0);
        let data = self.out.data(0);
        for y in 0..self.height {
            self.buf[y * self.width..(y + 1) * self.width]
                .copy_from_slice(&data[y * stride..y * stride + self.width]);
        }
        Ok(&self.buf)
    }
}
