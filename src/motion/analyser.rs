//! The analysis step shared by live detection and `hearth detect`, so both decide
//! alike: decoded pictures at their times in, at most `fps` decisions a second out.
//! The scaler and the detector are made for the first picture and made again when
//! the picture's size or format changes.

use super::detector::{Decision, Detector, DetectorConfig};
use super::luma::LumaScaler;
use ffmpeg_next as ff;

pub struct Analyser {
    cfg: DetectorConfig,
    step: f64,
    next_t: f64,
    scaler: Option<LumaScaler>,
    detector: Option<Detector>,
}

impl Analyser {
    pub fn new(cfg: DetectorConfig) -> Analyser {
        Analyser {
            step: 1.0 / f64::from(cfg.fps.max(0.1)),
            cfg,
            next_t: 0.0,
            scaler: None,
            detector: None,
        }
    }

    /// The decision on `picture` at `t` seconds, or `None` when it falls between
    /// analysis times.
    pub fn analyse(
        &mut self,
        t: f64,
        picture: &ff::frame::Video,
    ) -> Result<Option<Decision>, ff::Error> {
        if t + 1e-6 < self.next_t {
            return Ok(None);
        }
        self.next_t = (self.next_t + self.step).max(t + self.step * 0.5);
        let scaler = match &mut self.scaler {
            Some(s) if s.fits(picture) => s,
            slot => {
                let s = LumaScaler::new(picture)?;
                self.detector = Some(Detector::new(self.cfg.clone(), s.width, s.height));
                slot.insert(s)
            }
        };
        let Some(det) = self.detector.as_mut() else {
            return Ok(None);
        };
        Ok(Some(det.push(scaler.scale(picture)?)))
    }

    /// Forgets the pictures seen so far: the next one is learnt as the scene, not
    /// compared with the last (after frames went missing).
    pub fn restart(&mut self) {
        if let Some(d) = &mut self.detector {
            let (w, h) = d.size();
            *d = Detector::new(self.cfg.clone(), w, h);
        }
    }

    /// The analysed pictures' size, once there is one.
    pub fn size(&self) -> Option<(usize, usize)> {
        self.detector.as_ref().map(Detector::size)
    }
}
