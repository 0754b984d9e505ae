//! Motion detection: the detector and the event tracker (pure), polygons for
//! masks and zones, the decoder that feeds them small luma pictures, and the
//! offline `hearth detect` run over a file.

pub mod analyser;
pub mod decode;
pub mod detector;
pub mod events;
pub mod geometry;
pub mod live;
pub mod luma;
pub mod notices;
pub mod offline;
pub mod snapshot;
