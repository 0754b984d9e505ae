//! The motion detector (pure): small luma pictures in, decisions out.
//!
//! Each picture is median-filtered and compared with a slowly adapting background after
//! fitting the background to the picture's overall brightness (`cur ≈ a·bg + b`),
//! so light switches, IR flips, clouds and slow ramps change the fit, not the
//! verdict. A pixel is foreground when it differs by more than its own noise
//! level allows; an opening removes specks (rain, snow, sensor noise); blobs
//! smaller than the minimum area are dropped; motion needs that many consecutive
//! frames, and a blob counts only while it is moving: part of it must differ from
//! the picture of about half a second before (fitted the same way), so something
//! that has stopped, or the ghost of something that was there when watching began,
//! is no motion. When most of the picture changes at once, or the light changes
//! from one picture to the next (a switch to IR night mode brightens materials
//! unevenly, so the fit to the background leaves part of the picture unexplained),
//! the background is reset (re-baseline) without an event and learnt again.
//! Foreground that stays put (a parked car) is absorbed into the background after
//! a while.

#![allow(
    clippy::cast_possible_truncation,
    reason = "pixel arithmetic on pictures of at most a few thousand pixels a side; float to integer `as` saturates"
)]

use super::geometry::Rect;
pub use crate::motion_settings::DetectorConfig;
use std::collections::VecDeque;

/// What the detector made of one picture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Motion, after the minimum number of consecutive frames.
    pub motion: bool,
    /// Consecutive frames with moving blobs, this one included (0 without).
    pub run_frames: u32,
    /// Share of the watched area covered by moving blobs (0..1).
    pub score: f32,
    pub boxes: Vec<Rect>,
    pub zones: Vec<String>,
    /// The background was reset: a sudden change of the whole picture.
    pub rebaseline: bool,
}

/// Share of the watched area that, changing at once, means a re-baseline.
const REBASELINE_SHARE: f32 = 0.45;
/// Share of the watched area differing from the background above which the
/// picture is checked for a change of light since the last one.
const LIGHT_CHECK_SHARE: f32 = 0.02;
/// A change of the picture's mean brightness (luma levels) from one picture to
/// the next, explained by the fit between them, that is a change of light rather
/// than anything moving: cameras' exposure drifts far slower.
const LIGHT_STEP: f32 = 5.0;
/// Pictures used to learn the background and noise before deciding anything
/// (again after a re-baseline).
const WARMUP_FRAMES: u32 = 4;
/// How far back (seconds) a blob is compared to tell moving from standing still.
const MOVING_LOOKBACK_S: f32 = 0.6;

pub struct Detector {
    cfg: DetectorConfig,
    width: usize,
    height: usize,
    watched: Vec<bool>,
    watched_count: usize,
    zone_masks: Vec<(String, Vec<bool>)>,
    bg: Vec<f32>,
    noise: Vec<f32>,
    fg_frames: Vec<u32>,
    /// The last few filtered pictures, oldest first, for the moving test.
    history: VecDeque<Vec<f32>>,
    frames: u32,
    consecutive: u32,
    // Scratch buffers, kept to avoid allocating per picture.
    cur: Vec<f32>,
    fg: Vec<bool>,
    tmp: Vec<bool>,
    labels: Vec<u32>,
    cols: Vec<[u8; 3]>,
}

impl Detector {
    pub fn new(cfg: DetectorConfig, width: usize, height: usize) -> Detector {
        let n = width * height;
        let mut watched = vec![true; n];
        for m in &cfg.masks {
            for (w, masked) in watched.iter_mut().zip(m.rasterise(width, height)) {
                *w &= !masked;
            }
        }
        let zone_masks = cfg
            .zones
            .iter()
            .map(|(name, p)| (name.clone(), p.rasterise(width, height)))
            .collect();
        Detector {
            watched_count: watched.iter().filter(|&&w| w).count().max(1),
            watched,
            zone_masks,
            cfg,
            width,
            height,
            bg: Vec::new(),
            noise: vec![2.0; n],
            fg_frames: vec![0; n],
            history: VecDeque::new(),
            frames: 0,
            consecutive: 0,
            cur: vec![0.0; n],
            fg: vec![false; n],
            tmp: vec![false; n],
            labels: vec![0; n],
            cols: Vec::new(),
        }
    }

    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Decides on one picture: `luma` is `width` × `height`, one byte a pixel.
    pub fn push(&mut self, luma: &[u8]) -> Decision {
        let (w, h) = (self.width, self.height);
        if luma.len() < w * h {
            return Decision::default();
        }
        blur(luma, w, h, &mut self.cur, &mut self.cols);
        self.frames += 1;
        if self.bg.is_empty() {
            self.bg = self.cur.clone();
            self.remember();
            return Decision::default();
        }
        let (a, b, _) = self.fit(&self.bg);
        let sens = self.cfg.sensitivity.clamp(0.0, 1.0);
        let k = 3.0 + 4.0 * (1.0 - sens);
        let floor = 5.0 + 10.0 * (1.0 - sens);
        let mut changed = 0usize;
        for i in 0..w * h {
            let d = self.cur[i] - (a * self.bg[i] + b);
            let fg = self.watched[i] && d.abs() > (k * self.noise[i]).max(floor);
            self.fg[i] = fg;
            changed += usize::from(fg);
        }
        let warming = self.frames <= WARMUP_FRAMES;
        let share = changed as f32 / self.watched_count as f32;
        // The light changed since the last picture (beyond what the fit to the
        // background explains, as in a switch to IR, where materials brighten
        // unevenly): checked only when part of the picture differs at all.
        let light_changed = share > LIGHT_CHECK_SHARE
            && self
                .history
                .back()
                .is_some_and(|prev| self.light_step(prev) > LIGHT_STEP);
        if share > REBASELINE_SHARE || light_changed {
            // The whole picture changed: new light, IR on or off, the camera moved.
            // Learn it afresh, warming up again.
            self.bg.copy_from_slice(&self.cur);
            self.fg_frames.fill(0);
            self.consecutive = 0;
            self.history.clear();
            self.frames = 1;
            self.remember();
            return Decision {
                rebaseline: true,
                ..Decision::default()
            };
        }
        open(&mut self.fg, &mut self.tmp, w, h);
        let blobs = self.blobs();
        let min_px = (self.cfg.min_area * self.watched_count as f32).max(1.0) as usize;
        let big: Vec<&Blob> = blobs.iter().filter(|b| b.area >= min_px).collect();
        // The fit to the earlier picture only when there is a blob to test (rarely).
        let (pa, pb) = match self.history.front() {
            Some(past) if !big.is_empty() => {
                let (a, b, _) = self.fit(past);
                (a, b)
            }
            _ => (1.0, 0.0),
        };
        let kept: Vec<&Blob> = big
            .into_iter()
            .filter(|b| self.moved(b, pa, pb, k, floor) * 2 >= min_px)
            .collect();
        let moving_px: usize = kept.iter().map(|b| b.area).sum();
        self.update_background(a, b);
        self.remember();
        if warming {
            return Decision::default();
        }
        if kept.is_empty() {
            self.consecutive = 0;
        } else {
            self.consecutive += 1;
        }
        let zones = self
            .zone_masks
            .iter()
            .filter(|(_, m)| kept.iter().any(|b| b.pixels.iter().any(|&p| m[p as usize])))
            .map(|(n, _)| n.clone())
            .collect();
        Decision {
            motion: self.consecutive >= self.cfg.min_frames.max(1),
            run_frames: self.consecutive,
            score: moving_px as f32 / self.watched_count as f32,
            boxes: kept.iter().map(|b| b.rect).collect(),
            zones,
            rebaseline: false,
        }
    }

    /// Keeps the current picture for the moving test, dropping the oldest.
    fn remember(&mut self) {
        let keep = (MOVING_LOOKBACK_S * self.cfg.fps).round().max(1.0) as usize;
        let mut slot = if self.history.len() >= keep {
            self.history.pop_front().unwrap_or_default()
        } else {
            Vec::new()
        };
        slot.clear();
        slot.extend_from_slice(&self.cur);
        self.history.push_back(slot);
    }

    /// Pixels of the blob that differ from the oldest kept picture (fitted to the
    /// current one by `a`, `b`) by more than their noise allows.
    fn moved(&self, blob: &Blob, a: f32, b: f32, k: f32, floor: f32) -> usize {
        let Some(past) = self.history.front() else {
            return blob.area;
        };
        blob.pixels
            .iter()
            .filter(|&&p| {
                let i = p as usize;
                (self.cur[i] - (a * past[i] + b)).abs() > (k * self.noise[i]).max(floor)
            })
            .count()
    }

    /// How far the fit from `prev` to the current picture moves the brightness at
    /// `prev`'s mean level: a gain the fit cannot pin down in a dark, noisy picture
    /// moves little there.
    fn light_step(&self, prev: &[f32]) -> f32 {
        let (a, b, mean) = self.fit(prev);
        ((a - 1.0) * mean + b).abs()
    }

    /// Least-squares fit of the picture to `reference` (the background or an earlier
    /// picture) over watched pixels, twice: the second time without the pixels the
    /// first fit left unexplained. Also returns the reference's mean over the
    /// pixels of the first pass.
    fn fit(&self, reference: &[f32]) -> (f32, f32, f32) {
        let mut ab = (1.0f32, 0.0f32);
        let mut mean = 0.0f32;
        for pass in 0..2 {
            let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
            for i in (0..self.cur.len()).step_by(2) {
                if !self.watched[i] {
                    continue;
                }
                let (x, y) = (reference[i], self.cur[i]);
                if pass == 1 && (y - (ab.0 * x + ab.1)).abs() > 4.0 * self.noise[i].max(3.0) {
                    continue;
                }
                let (x, y) = (f64::from(x), f64::from(y));
                n += 1.0;
                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
            }
            if n < 16.0 {
                return (ab.0, ab.1, mean);
            }
            if pass == 0 {
                mean = (sx / n) as f32;
            }
            let var = sxx / n - (sx / n).powi(2);
            let a = if var > 25.0 {
                ((sxy / n - sx / n * sy / n) / var).clamp(0.2, 5.0)
            } else {
                1.0
            };
            ab = (a as f32, ((sy - a * sx) / n) as f32);
        }
        (ab.0, ab.1, mean)
    }

    fn update_background(&mut self, a: f32, b: f32) {
        let alpha = (1.0 / (2.0 * self.cfg.fps.max(0.5))).min(0.5);
        let absorb = (self.cfg.absorb_s * self.cfg.fps).max(1.0) as u32;
        let global_change = (a - 1.0).abs() > 0.03 || b.abs() > 3.0;
        for i in 0..self.cur.len() {
            if global_change {
                // Carry the background into the new light before learning from it.
                self.bg[i] = a * self.bg[i] + b;
            }
            let d = self.cur[i] - self.bg[i];
            if self.fg[i] {
                self.fg_frames[i] += 1;
                if self.fg_frames[i] >= absorb {
                    self.bg[i] = self.cur[i];
                    self.fg_frames[i] = 0;
                }
            } else {
                self.fg_frames[i] = 0;
                self.bg[i] += alpha * d;
                self.noise[i] += 0.05 * (d.abs().min(40.0) - self.noise[i]);
                self.noise[i] = self.noise[i].max(1.0);
            }
        }
    }

    /// 8-connected blobs of the foreground.
    fn blobs(&mut self) -> Vec<Blob> {
        let (w, h) = (self.width, self.height);
        self.labels.fill(0);
        let mut out = Vec::new();
        let mut stack = Vec::new();
        for start in 0..w * h {
            if !self.fg[start] || self.labels[start] != 0 {
                continue;
            }
            let label = out.len() as u32 + 1;
            let mut blob = Blob {
                area: 0,
                rect: Rect {
                    x0: start % w,
                    y0: start / w,
                    x1: start % w,
                    y1: start / w,
                },
                pixels: Vec::new(),
            };
            self.labels[start] = label;
            stack.push(start);
            while let Some(p) = stack.pop() {
                let (x, y) = (p % w, p / w);
                blob.area += 1;
                blob.pixels.push(p as u32);
                blob.rect = blob.rect.union(Rect {
                    x0: x,
                    y0: y,
                    x1: x,
                    y1: y,
                });
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                        if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                            continue;
                        }
                        let q = ny as usize * w + nx as usize;
                        if self.fg[q] && self.labels[q] == 0 {
                            self.labels[q] = label;
                            stack.push(q);
                        }
                    }
                }
            }
            out.push(blob);
        }
        out
    }
}

struct Blob {
    area: usize,
    rect: Rect,
    pixels: Vec<u32>,
}

/// 3×3 median into `out`, edges clamped: smooths sensor noise and removes specks
/// and short streaks (rain, snow, hot pixels) that a mean would smear into blobs.
/// Exact, by the column method: sort each column of three once, then the median
/// of nine is the median of the largest low, the middle middle and the smallest high.
fn blur(src: &[u8], w: usize, h: usize, out: &mut [f32], cols: &mut Vec<[u8; 3]>) {
    cols.resize(w, [0; 3]);
    for y in 0..h {
        let (up, mid, down) = (
            &src[y.saturating_sub(1) * w..][..w],
            &src[y * w..][..w],
            &src[(y + 1).min(h - 1) * w..][..w],
        );
        for x in 0..w {
            cols[x] = sort3(up[x], mid[x], down[x]);
        }
        let row = &mut out[y * w..][..w];
        for x in 0..w {
            let (l, c, r) = (cols[x.saturating_sub(1)], cols[x], cols[(x + 1).min(w - 1)]);
            let lo = l[0].max(c[0]).max(r[0]);
            let md = sort3(l[1], c[1], r[1])[1];
            let hi = l[2].min(c[2]).min(r[2]);
            row[x] = f32::from(sort3(lo, md, hi)[1]);
        }
    }
}

fn sort3(a: u8, b: u8, c: u8) -> [u8; 3] {
    let (a, b) = (a.min(b), a.max(b));
    let (b, c) = (b.min(c), b.max(c));
    let (a, b) = (a.min(b), a.max(b));
    [a, b, c]
}

/// Morphological opening (erode, then dilate) with a 3×3 square: removes specks
/// and one-pixel lines, keeps solid shapes. Each is a row pass and a column pass;
/// outside the picture counts as set for erosion and unset for dilation.
fn open(m: &mut [bool], tmp: &mut [bool], w: usize, h: usize) {
    for (erode, edge) in [(true, true), (false, false)] {
        let pick = |a: bool, b: bool, c: bool| if erode { a & b & c } else { a | b | c };
        for y in 0..h {
            let (src, dst) = (&m[y * w..][..w], &mut tmp[y * w..][..w]);
            for x in 0..w {
                let l = if x > 0 { src[x - 1] } else { edge };
                let r = if x + 1 < w { src[x + 1] } else { edge };
                dst[x] = pick(l, src[x], r);
            }
        }
        for y in 0..h {
            for x in 0..w {
                let u = if y > 0 { tmp[(y - 1) * w + x] } else { edge };
                let d = if y + 1 < h {
                    tmp[(y + 1) * w + x]
                } else {
                    edge
                };
                m[y * w + x] = pick(u, tmp[y * w + x], d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! One test per hazard, on synthetic pictures: a textured background, sensor
    //! noise, and textured objects.
    use super::*;
    use crate::motion_settings::Polygon;

    const W: usize = 160;
    const H: usize = 90;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 32) as u32
        }
        /// Roughly normal, mean 0, standard deviation `sd`.
        fn noise(&mut self, sd: f32) -> f32 {
            let s: f32 = (0..4).map(|_| (self.next() % 1000) as f32 / 1000.0).sum();
            (s - 2.0) * sd * 1.73
        }
    }

    fn texture(seed: u64, base: f32, amp: f32) -> Vec<f32> {
        let mut r = Rng(seed);
        (0..W * H)
            .map(|i| {
                let (x, y) = ((i % W) as f32, (i / W) as f32);
                base + amp * ((x / 7.0).sin() * (y / 5.0).cos()) + (r.next() % 20) as f32
            })
            .collect()
    }

    struct Scene {
        bg: Vec<f32>,
        rng: Rng,
        noise: f32,
        gain: f32,
        offset: f32,
    }

    impl Scene {
        fn new(noise: f32) -> Scene {
            Scene {
                bg: texture(7, 110.0, 30.0),
                rng: Rng(99),
                noise,
                gain: 1.0,
                offset: 0.0,
            }
        }
        /// A picture with objects (x, y, w, h, brightness) drawn on it.
        fn frame(&mut self, objects: &[(usize, usize, usize, usize, f32)]) -> Vec<u8> {
            let mut f = self.bg.clone();
            for &(ox, oy, ow, oh, v) in objects {
                for y in oy..(oy + oh).min(H) {
                    for x in ox..(ox + ow).min(W) {
                        f[y * W + x] = v + if (x / 3 + y / 3) % 2 == 0 {
                            15.0
                        } else {
                            -15.0
                        };
                    }
                }
            }
            f.iter()
                .map(|&p| {
                    (p * self.gain + self.offset + self.rng.noise(self.noise)).clamp(0.0, 255.0)
                        as u8
                })
                .collect()
        }
    }

    fn run(d: &mut Detector, frames: impl IntoIterator<Item = Vec<u8>>) -> Vec<Decision> {
        frames.into_iter().map(|f| d.push(&f)).collect()
    }

    fn detector() -> Detector {
        Detector::new(DetectorConfig::default(), W, H)
    }

    fn motion_count(ds: &[Decision]) -> usize {
        ds.iter().filter(|d| d.motion).count()
    }

    #[test]
    fn fast_median_and_opening_match_the_definitions() {
        let (w, h) = (23, 17);
        let mut rng = Rng(5);
        let src: Vec<u8> = (0..w * h).map(|_| (rng.next() % 256) as u8).collect();
        let mut out = vec![0.0; w * h];
        blur(&src, w, h, &mut out, &mut Vec::new());
        let mask: Vec<bool> = (0..w * h).map(|_| rng.next() % 3 != 0).collect();
        let mut opened = mask.clone();
        open(&mut opened, &mut vec![false; w * h], w, h);
        let at = |x: i64, y: i64| {
            (x.clamp(0, w as i64 - 1) + y.clamp(0, h as i64 - 1) * w as i64) as usize
        };
        let inside = |x: i64, y: i64| x >= 0 && y >= 0 && x < w as i64 && y < h as i64;
        let eroded: Vec<bool> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as i64, (i / w) as i64);
                (-1..=1).all(|dy| {
                    (-1..=1).all(|dx| !inside(x + dx, y + dy) || mask[at(x + dx, y + dy)])
                })
            })
            .collect();
        for i in 0..w * h {
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            let mut v: Vec<u8> = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
                .map(|(dx, dy)| src[at(x + dx, y + dy)])
                .collect();
            v.sort_unstable();
            assert_eq!(out[i], f32::from(v[4]), "median at {x},{y}");
            let dilated = (-1..=1)
                .any(|dy| (-1..=1).any(|dx| inside(x + dx, y + dy) && eroded[at(x + dx, y + dy)]));
            assert_eq!(opened[i], dilated, "opening at {x},{y}");
        }
    }

    #[test]
    fn sensor_noise_alone_is_not_motion() {
        let mut s = Scene::new(4.0);
        let mut d = detector();
        let ds = run(&mut d, (0..150).map(|_| s.frame(&[])));
        assert_eq!(motion_count(&ds), 0);
    }

    #[test]
    fn a_person_crossing_is_motion_with_a_box() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        run(&mut d, (0..10).map(|_| s.frame(&[])));
        let ds = run(
            &mut d,
            (0..40).map(|i| s.frame(&[(5 + i * 3, 30, 16, 40, 200.0)])),
        );
        assert!(motion_count(&ds) >= 36, "{}", motion_count(&ds));
        let b = ds[20].boxes[0];
        assert!(
            b.x0 >= 60 && b.x1 <= 90 && b.y0 >= 27 && b.y1 <= 72,
            "{b:?}"
        );
        assert!(ds[20].score > 0.02);
    }

    #[test]
    fn a_small_distant_object_is_found() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        run(&mut d, (0..10).map(|_| s.frame(&[])));
        let ds = run(
            &mut d,
            (0..30).map(|i| s.frame(&[(20 + i * 2, 10, 6, 8, 30.0)])),
        );
        assert!(motion_count(&ds) >= 25, "{}", motion_count(&ds));
    }

    #[test]
    fn a_light_switch_is_a_rebaseline_not_motion() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        let mut ds = run(&mut d, (0..20).map(|_| s.frame(&[])));
        s.gain = 1.7;
        s.offset = 15.0;
        ds.extend(run(&mut d, (0..30).map(|_| s.frame(&[]))));
        s.gain = 0.5;
        s.offset = -5.0;
        ds.extend(run(&mut d, (0..30).map(|_| s.frame(&[]))));
        assert_eq!(motion_count(&ds), 0);
    }

    #[test]
    fn an_ir_flip_rebaselines_without_an_event() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        let mut ds = run(&mut d, (0..20).map(|_| s.frame(&[])));
        // Night mode: another picture altogether (grey IR texture, other contrast).
        s.bg = texture(1234, 60.0, 50.0)
            .iter()
            .map(|v| 255.0 - v)
            .collect();
        let after = run(&mut d, (0..30).map(|_| s.frame(&[])));
        assert!(after[0].rebaseline);
        ds.extend(after);
        assert_eq!(motion_count(&ds), 0);
    }

    #[test]
    fn a_slow_illumination_ramp_is_not_motion() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        let ds = run(
            &mut d,
            (0..200).map(|i| {
                s.offset = i as f32 * 0.4;
                s.gain = 1.0 - i as f32 * 0.001;
                s.frame(&[])
            }),
        );
        assert_eq!(motion_count(&ds), 0);
    }

    #[test]
    fn rain_and_snow_specks_are_not_motion() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        let mut r = Rng(5);
        let ds = run(
            &mut d,
            (0..100).map(|_| {
                let mut f = s.frame(&[]);
                for _ in 0..(W * H / 60) {
                    let p = r.next() as usize % (W * H);
                    f[p] = 255;
                    // Streaks two pixels long, as falling drops leave.
                    if p + W < W * H {
                        f[p + W] = 240;
                    }
                }
                f
            }),
        );
        assert_eq!(motion_count(&ds), 0);
    }

    #[test]
    fn foliage_in_a_masked_corner_is_ignored() {
        let leaves = |s: &mut Scene, r: &mut Rng| {
            let objs: Vec<_> = (0..6)
                .map(|_| {
                    (
                        r.next() as usize % 40,
                        r.next() as usize % 30,
                        10,
                        10,
                        40.0 + (r.next() % 150) as f32,
                    )
                })
                .collect();
            s.frame(&objs)
        };
        let mask = Polygon(vec![(0.0, 0.0), (0.35, 0.0), (0.35, 0.5), (0.0, 0.5)]);
        let cfg = DetectorConfig {
            masks: vec![mask],
            ..DetectorConfig::default()
        };
        let (mut s, mut r) = (Scene::new(3.0), Rng(11));
        let mut masked = Detector::new(cfg, W, H);
        let ds = run(&mut masked, (0..80).map(|_| leaves(&mut s, &mut r)));
        assert_eq!(motion_count(&ds), 0);
        let (mut s, mut r) = (Scene::new(3.0), Rng(11));
        let mut unmasked = detector();
        let ds = run(&mut unmasked, (0..80).map(|_| leaves(&mut s, &mut r)));
        assert!(
            motion_count(&ds) > 40,
            "without the mask the leaves are motion"
        );
    }

    #[test]
    fn an_object_that_stops_is_no_motion_and_is_absorbed() {
        let cfg = DetectorConfig {
            absorb_s: 4.0,
            ..DetectorConfig::default()
        };
        let mut s = Scene::new(3.0);
        let mut d = Detector::new(cfg, W, H);
        run(&mut d, (0..10).map(|_| s.frame(&[])));
        let moving = run(
            &mut d,
            (0..20).map(|i| s.frame(&[(10 + i * 3, 30, 20, 30, 200.0)])),
        );
        assert!(motion_count(&moving) >= 16);
        // Parked at x = 70: motion while it comes to a stop, then none.
        let parked = run(&mut d, (0..60).map(|_| s.frame(&[(70, 30, 20, 30, 200.0)])));
        assert!(parked[..2].iter().all(|d| d.motion), "stopping");
        assert!(
            parked[6..].iter().all(|d| !d.motion),
            "standing still is not motion"
        );
        // Absorbed: someone walking past the parked object is boxed alone.
        let past = run(
            &mut d,
            (0..6).map(|i| s.frame(&[(70, 30, 20, 30, 200.0), (40 + i * 4, 32, 16, 26, 60.0)])),
        );
        let last = &past[5];
        assert!(last.motion);
        assert!(last.boxes.iter().all(|b| b.x1 < 85), "{:?}", last.boxes);
    }

    #[test]
    fn the_ghost_of_what_was_there_at_the_start_is_no_motion() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        // Watching begins with something standing at x = 60, which then walks off.
        run(&mut d, (0..3).map(|_| s.frame(&[(60, 30, 20, 30, 200.0)])));
        let leaving = run(
            &mut d,
            (0..12).map(|i| s.frame(&[(60 + i * 8, 30, 20, 30, 200.0)])),
        );
        assert!(motion_count(&leaving) >= 6);
        let after = run(&mut d, (0..30).map(|_| s.frame(&[])));
        assert!(
            after[4..].iter().all(|d| !d.motion),
            "the empty place where it stood is not motion"
        );
    }

    #[test]
    fn a_light_switch_during_motion_keeps_the_motion() {
        let mut s = Scene::new(3.0);
        let mut d = detector();
        run(&mut d, (0..10).map(|_| s.frame(&[])));
        let before = run(
            &mut d,
            (0..15).map(|i| s.frame(&[(5 + i * 3, 30, 16, 40, 200.0)])),
        );
        s.gain = 1.5;
        s.offset = 10.0;
        let after = run(
            &mut d,
            (15..40).map(|i| s.frame(&[(5 + i * 3, 30, 16, 40, 200.0)])),
        );
        assert!(motion_count(&before) >= 12);
        assert!(motion_count(&after) >= 20, "{}", motion_count(&after));
    }

    #[test]
    fn a_dark_noisy_night_is_quiet_until_something_moves() {
        let mut s = Scene::new(8.0);
        s.bg = texture(3, 20.0, 8.0);
        let mut d = detector();
        let quiet = run(&mut d, (0..100).map(|_| s.frame(&[])));
        assert_eq!(motion_count(&quiet), 0);
        let moving = run(
            &mut d,
            (0..30).map(|i| s.frame(&[(5 + i * 4, 30, 18, 36, 90.0)])),
        );
        assert!(motion_count(&moving) >= 20, "{}", motion_count(&moving));
    }

    #[test]
    fn zones_touched_are_named() {
        let zone = Polygon(vec![(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]);
        let cfg = DetectorConfig {
            zones: vec![("drive".into(), zone)],
            ..DetectorConfig::default()
        };
        let mut s = Scene::new(3.0);
        let mut d = Detector::new(cfg, W, H);
        run(&mut d, (0..10).map(|_| s.frame(&[])));
        let left = run(
            &mut d,
            (0..5).map(|i| s.frame(&[(10 + i * 3, 30, 16, 30, 200.0)])),
        );
        assert!(left[4].motion && left[4].zones.is_empty());
        let right = run(
            &mut d,
            (0..5).map(|i| s.frame(&[(120 + i * 3, 30, 16, 30, 200.0)])),
        );
        assert_eq!(right[4].zones, vec!["drive".to_string()]);
    }
}
