//! Motion events as they happen, for whoever listens (the web's event stream):
//! an event's start, its growth (at most once a second), and its end with the
//! id it was stored under. Nobody listening costs nothing; a listener that falls
//! behind misses notices, never blocks detection.

use serde::Serialize;
use tokio::sync::broadcast;

/// Notices kept for a listener that is behind.
const BACKLOG: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Started,
    Updated,
    Ended,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    pub camera: String,
    pub phase: Phase,
    /// The stored event's id, once it has ended.
    pub id: Option<i64>,
    pub start_us: i64,
    pub end_us: i64,
    pub peak: f32,
    pub zones: Vec<String>,
    /// A thumbnail (JPEG) of the picture that started the event, on its start
    /// notice only, for alerts that may carry one.
    #[serde(skip)]
    pub picture: Option<std::sync::Arc<Vec<u8>>>,
}

pub type Notices = broadcast::Sender<Notice>;

pub fn channel() -> Notices {
    broadcast::channel(BACKLOG).0
}
