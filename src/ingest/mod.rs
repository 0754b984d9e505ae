//! Camera ingest: RTSP sessions with retina, reconnection with backoff, per-stream
//! health, and the frame hub each stream publishes to.

pub mod base_url;
pub mod batch_queue;
pub mod frame;
pub mod health;
pub mod hub;
pub mod log_budget;
pub mod motion_signal;
pub mod probe;
pub mod rtsp;
pub mod sdp_params;
