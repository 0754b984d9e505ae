//! The frame hub of one camera stream: ingest publishes, each consumer (recorder,
//! later live view and motion) has its own bounded queue.
//!
//! A consumer that falls behind misses frames rather than holding up ingest or the
//! others; it is told so by a [`StreamEvent::Gap`] before the next frame it gets.
//! Memory is held only while frames are queued.

use super::frame::Frame;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub enum StreamEvent {
    Frame(Arc<Frame>),
    /// Frames are missing here: the session ended or this consumer fell behind.
    Gap,
}

struct Subscriber {
    tx: mpsc::Sender<StreamEvent>,
    missed: bool,
}

#[derive(Default)]
pub struct Hub {
    subs: Mutex<Vec<Subscriber>>,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// A new consumer queue holding at most `capacity` events.
    pub fn subscribe(&self, capacity: usize) -> mpsc::Receiver<StreamEvent> {
        let (tx, rx) = mpsc::channel(capacity);
        self.lock().push(Subscriber { tx, missed: false });
        rx
    }

    pub fn send(&self, ev: StreamEvent) {
        self.lock().retain_mut(|s| {
            if s.missed {
                match s.tx.try_send(StreamEvent::Gap) {
                    Ok(()) => s.missed = false,
                    Err(mpsc::error::TrySendError::Full(_)) => return true,
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            match s.tx.try_send(ev.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.missed = true;
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
    }

    /// Ends every consumer's queue: after the queued events they see the end.
    pub fn close(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
