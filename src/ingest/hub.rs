//! The frame hub of one camera stream: ingest publishes, each consumer (recorder,
//! motion detection, live viewers) has its own bounded queue.
//!
//! A consumer that falls behind misses frames rather than holding up ingest or the
//! others; it is told so by a [`StreamEvent::Gap`] before the next frame it gets.
//! Memory is held only while frames are queued. A consumer thread that needs no
//! frame at once (the recorder) takes a [`batch_queue`] instead, and is woken once
//! per GOP rather than once per frame.

use super::batch_queue::{self, BatchReceiver, BatchSender, Refused};
use super::frame::{AudioFrame, Frame};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub enum StreamEvent {
    Frame(Arc<Frame>),
    Audio(Arc<AudioFrame>),
    /// Frames are missing here: the session ended (`dropped` 0) or this consumer
    /// fell behind and missed `dropped` frames.
    Gap {
        dropped: u64,
    },
}

/// Where a consumer's events go.
enum Queue {
    Channel(mpsc::Sender<StreamEvent>),
    Batch(BatchSender),
}

impl Queue {
    fn try_send(&self, ev: StreamEvent) -> Result<(), Refused> {
        match self {
            Queue::Channel(tx) => tx.try_send(ev).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Refused::Full,
                mpsc::error::TrySendError::Closed(_) => Refused::Closed,
            }),
            Queue::Batch(tx) => tx.try_send(ev),
        }
    }
}

struct Subscriber {
    tx: Queue,
    /// A gap this consumer is owed, with the frames it missed: set when an event
    /// (a frame, or a session-end gap) could not be queued for it.
    owed: Option<u64>,
}

/// The most frames of one GOP kept for live viewers.
const MAX_GOP_FRAMES: usize = 600;

#[derive(Default)]
pub struct Hub {
    subs: Mutex<Vec<Subscriber>>,
    /// The frames since the last key frame, when live viewers may join.
    gop: Option<Mutex<Vec<Arc<Frame>>>>,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// A hub that keeps the current GOP, so a live viewer starts at once.
    pub fn with_live() -> Arc<Hub> {
        Arc::new(Hub {
            subs: Mutex::default(),
            gop: Some(Mutex::default()),
        })
    }

    /// The current GOP's key frame, when the hub keeps one.
    pub fn key_frame(&self) -> Option<Arc<Frame>> {
        let gop = self.gop.as_ref()?;
        gop.lock()
            .unwrap_or_else(|p| p.into_inner())
            .first()
            .filter(|f| f.key)
            .cloned()
    }

    pub fn keeps_gop(&self) -> bool {
        self.gop.is_some()
    }

    /// A consumer that starts with the current GOP (from its key frame) when the
    /// hub keeps one.
    pub fn subscribe_live(&self, capacity: usize) -> mpsc::Receiver<StreamEvent> {
        let mut subs = self.lock();
        let (tx, rx) = mpsc::channel(capacity);
        if let Some(gop) = &self.gop {
            for f in gop.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                let _ = tx.try_send(StreamEvent::Frame(f.clone()));
            }
        }
        subs.push(Subscriber {
            tx: Queue::Channel(tx),
            owed: None,
        });
        rx
    }

    /// A new consumer queue holding at most `capacity` events.
    pub fn subscribe(&self, capacity: usize) -> mpsc::Receiver<StreamEvent> {
        let (tx, rx) = mpsc::channel(capacity);
        self.push(Queue::Channel(tx));
        rx
    }

    /// A consumer thread's queue holding at most `capacity` events, which wakes
    /// it once per batch (see [`batch_queue`]).
    pub fn subscribe_batched(&self, capacity: usize) -> BatchReceiver {
        let (tx, rx) = batch_queue::channel(capacity);
        self.push(Queue::Batch(tx));
        rx
    }

    fn push(&self, tx: Queue) {
        self.lock().push(Subscriber { tx, owed: None });
    }

    pub fn send(&self, ev: StreamEvent) {
        let mut subs = self.lock();
        if let Some(gop) = &self.gop {
            let mut g = gop.lock().unwrap_or_else(|p| p.into_inner());
            match &ev {
                StreamEvent::Frame(f) => {
                    if f.key || g.len() >= MAX_GOP_FRAMES {
                        g.clear();
                    }
                    if f.key || !g.is_empty() {
                        g.push(f.clone());
                    }
                }
                StreamEvent::Gap { .. } => g.clear(),
                StreamEvent::Audio(_) => {}
            }
        }
        let frames = u64::from(matches!(ev, StreamEvent::Frame(_) | StreamEvent::Audio(_)));
        subs.retain_mut(|s| {
            if let Some(dropped) = s.owed {
                match s.tx.try_send(StreamEvent::Gap { dropped }) {
                    Ok(()) => s.owed = None,
                    Err(Refused::Full) => {
                        s.owed = Some(dropped + frames);
                        return true;
                    }
                    Err(Refused::Closed) => return false,
                }
            }
            match s.tx.try_send(ev.clone()) {
                Ok(()) => true,
                // A missed frame or session-end gap: either way a gap is owed.
                Err(Refused::Full) => {
                    *s.owed.get_or_insert(0) += frames;
                    true
                }
                Err(Refused::Closed) => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(pts: i64) -> StreamEvent {
        StreamEvent::Frame(Frame::for_test(pts, 0, true))
    }

    #[test]
    fn a_slow_consumer_misses_frames_and_is_told_how_many() {
        let hub = Hub::new();
        let mut slow = hub.subscribe(2);
        let mut fast = hub.subscribe(100);
        for i in 0..5 {
            hub.send(frame(i));
        }
        let mut got = Vec::new();
        while let Ok(ev) = slow.try_recv() {
            got.push(ev);
        }
        assert_eq!(got.len(), 2);
        hub.send(frame(5));
        assert!(matches!(
            slow.try_recv(),
            Ok(StreamEvent::Gap { dropped: 3 })
        ));
        assert!(matches!(slow.try_recv(), Ok(StreamEvent::Frame(f)) if f.pts == 5));
        let mut n = 0;
        while fast.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, 6, "the fast consumer misses nothing");
        hub.close();
        assert!(slow.blocking_recv().is_none());
    }

    #[test]
    fn a_session_end_a_full_consumer_missed_still_reaches_it() {
        let hub = Hub::new();
        let mut rx = hub.subscribe(2);
        hub.send(frame(0));
        hub.send(frame(1));
        hub.send(StreamEvent::Gap { dropped: 0 });
        assert!(matches!(rx.try_recv(), Ok(StreamEvent::Frame(_))));
        assert!(matches!(rx.try_recv(), Ok(StreamEvent::Frame(_))));
        hub.send(frame(2));
        // The gap comes first, counting no frame that was not missed.
        assert!(matches!(rx.try_recv(), Ok(StreamEvent::Gap { dropped: 0 })));
        assert!(matches!(rx.try_recv(), Ok(StreamEvent::Frame(f)) if f.pts == 2));
    }

    #[test]
    fn a_batched_consumer_that_falls_behind_is_owed_its_gap_too() {
        let hub = Hub::new();
        let rx = hub.subscribe_batched(2);
        for i in 0..5 {
            hub.send(frame(i));
        }
        let mut got = std::collections::VecDeque::new();
        let wait = std::time::Duration::from_secs(3600);
        assert!(rx.recv_batch(&mut got, wait));
        assert_eq!(got.len(), 2);
        hub.send(frame(5));
        got.clear();
        assert!(rx.recv_batch(&mut got, wait));
        assert!(matches!(got[0], StreamEvent::Gap { dropped: 3 }));
        assert!(matches!(&got[1], StreamEvent::Frame(f) if f.pts == 5));
        hub.close();
        assert!(!rx.recv_batch(&mut got, wait));
    }
}
