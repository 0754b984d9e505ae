//! Recording: cutting frames into segments, writing segment files, the on-disk
//! layout, crash recovery and verification, retention, and export.

pub mod data_dir;
pub mod dir_sync;
pub mod export;
pub mod export_file;
pub mod indexer;
pub mod key_frame;
pub mod layout;
pub mod motion_gate;
pub mod recorder;
pub mod recovery;
pub mod reserve;
pub mod retention;
pub mod segmenter;
pub mod writer;
