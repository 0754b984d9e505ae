//! What motion detection is set up with, as the config gives it: the detector's
//! settings and the polygons of its masks and zones (normalised coordinates, 0..1
//! across and down the picture). Plain data below both `config` and `motion`;
//! the detector and `motion::geometry` give them their behaviour.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Polygon(pub Vec<(f32, f32)>);

#[derive(Clone, Debug, PartialEq)]
pub struct DetectorConfig {
    /// 0 (only big, clear changes) to 1 (the faintest).
    pub sensitivity: f32,
    /// Smallest blob that counts, as a fraction of the analysed area.
    pub min_area: f32,
    /// Consecutive motion frames before motion is reported.
    pub min_frames: u32,
    /// Regions to ignore (trees, flags, a busy street).
    pub masks: Vec<Polygon>,
    /// Named regions; decisions say which ones motion touched.
    pub zones: Vec<(String, Polygon)>,
    /// Seconds after which something that stopped moving becomes background.
    pub absorb_s: f32,
    /// Analysis rate: the detector's time constants are in frames of this rate.
    pub fps: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            sensitivity: 0.5,
            min_area: 0.002,
            min_frames: 2,
            masks: Vec::new(),
            zones: Vec::new(),
            absorb_s: 30.0,
            fps: 5.0,
        }
    }
}
