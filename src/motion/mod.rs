//! Motion detection: the detector (pure), polygons for masks and zones.

pub mod detector;
pub mod geometry;
