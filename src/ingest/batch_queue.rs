//! A bounded queue from a stream's hub to a consumer thread that is woken once
//! per batch, not once per frame: at a key frame (where a fragment can end), at a
//! gap or the end of the stream, when the queue is half full, or when the
//! consumer's wait runs out. The recorder takes its frames this way, so a
//! camera's GOP costs its thread one wake-up instead of one per frame.
//!
//! While the consumer is busy nothing wakes it: frames queue up and it takes them
//! all at its next look. A full queue refuses the event; the hub then owes the
//! consumer a gap, as with its other queues.

use super::hub::StreamEvent;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Why an event was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Full,
    /// The consumer is gone.
    Closed,
}

struct State {
    events: VecDeque<StreamEvent>,
    /// The consumer sleeps until the producer clears this (or its wait runs out).
    waiting: bool,
    sender_gone: bool,
    receiver_gone: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the consumer if it sleeps; the lock is let go first.
    fn wake(&self, mut s: MutexGuard<'_, State>) {
        if s.waiting {
            s.waiting = false;
            drop(s);
            self.ready.notify_one();
        }
    }
}

/// A queue holding at most `capacity` events.
pub fn channel(capacity: usize) -> (BatchSender, BatchReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            events: VecDeque::new(),
            waiting: false,
            sender_gone: false,
            receiver_gone: false,
        }),
        ready: Condvar::new(),
        capacity: capacity.max(1),
    });
    (BatchSender(shared.clone()), BatchReceiver(shared))
}

/// The hub's end. Dropping it ends the queue: the consumer gets what is queued,
/// then the end.
pub struct BatchSender(Arc<Shared>);

impl BatchSender {
    pub fn try_send(&self, ev: StreamEvent) -> Result<(), Refused> {
        let mut s = self.0.lock();
        if s.receiver_gone {
            return Err(Refused::Closed);
        }
        if s.events.len() >= self.0.capacity {
            return Err(Refused::Full);
        }
        let urgent = match &ev {
            StreamEvent::Frame(f) => f.key,
            StreamEvent::Audio(_) => false,
            StreamEvent::Gap { .. } => true,
        };
        s.events.push_back(ev);
        if urgent || s.events.len() * 2 >= self.0.capacity {
            self.0.wake(s);
        }
        Ok(())
    }
}

impl Drop for BatchSender {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.sender_gone = true;
        self.0.wake(s);
    }
}

/// The consumer's end.
pub struct BatchReceiver(Arc<Shared>);

impl BatchReceiver {
    /// Moves the queued events to the end of `out`, first sleeping while none is
    /// queued until a batch is ready or `max_wait` has passed (then `out` may get
    /// nothing). False once the queue has ended and every event was taken.
    pub fn recv_batch(&self, out: &mut VecDeque<StreamEvent>, max_wait: Duration) -> bool {
        let mut s = self.0.lock();
        if s.events.is_empty() && !s.sender_gone {
            s.waiting = true;
            s = match self
                .0
                .ready
                .wait_timeout_while(s, max_wait, |s| s.waiting && !s.sender_gone)
            {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
            s.waiting = false;
        }
        if s.events.is_empty() && s.sender_gone {
            return false;
        }
        out.append(&mut s.events);
        true
    }
}

impl Drop for BatchReceiver {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.receiver_gone = true;
        s.events.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::frame::Frame;

    fn frame(pts: i64, key: bool) -> StreamEvent {
        StreamEvent::Frame(Frame::for_test(pts, 0, key))
    }

    fn pts(evs: &VecDeque<StreamEvent>) -> Vec<i64> {
        evs.iter()
            .map(|e| match e {
                StreamEvent::Frame(f) => f.pts,
                _ => -1,
            })
            .collect()
    }

    #[test]
    fn a_sleeping_consumer_wakes_at_the_key_frame_with_the_whole_gop() {
        let (tx, rx) = channel(100);
        let consumer = std::thread::spawn(move || {
            let mut got = VecDeque::new();
            // A wait far longer than the test: only the key frame may end it.
            assert!(rx.recv_batch(&mut got, Duration::from_secs(3600)));
            got
        });
        // Frames sent before the consumer sleeps are simply there when it looks.
        for i in 0..5 {
            tx.try_send(frame(i, false)).unwrap();
        }
        tx.try_send(frame(5, true)).unwrap();
        let got = consumer.join().unwrap();
        assert_eq!(pts(&got), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_wait_that_runs_out_gives_nothing_and_is_not_the_end() {
        let (tx, rx) = channel(100);
        let mut got = VecDeque::new();
        assert!(rx.recv_batch(&mut got, Duration::from_millis(20)));
        assert!(got.is_empty());
        // A frame between key frames wakes nobody, but is there at the next look.
        tx.try_send(frame(1, false)).unwrap();
        assert!(rx.recv_batch(&mut got, Duration::from_millis(20)));
        assert_eq!(pts(&got), vec![1]);
    }

    #[test]
    fn a_half_full_queue_or_a_gap_wakes_the_consumer() {
        let (tx, rx) = channel(8);
        let consumer = std::thread::spawn(move || {
            let mut got = VecDeque::new();
            assert!(rx.recv_batch(&mut got, Duration::from_secs(3600)));
            assert!(rx.recv_batch(&mut got, Duration::from_secs(3600)));
            (got, rx)
        });
        for i in 0..4 {
            tx.try_send(frame(i, false)).unwrap();
        }
        // Whichever woke it first, both batches come without waiting an hour.
        std::thread::sleep(Duration::from_millis(50));
        tx.try_send(StreamEvent::Gap { dropped: 0 }).unwrap();
        let (got, _rx) = consumer.join().unwrap();
        assert_eq!(pts(&got), vec![0, 1, 2, 3, -1]);
    }

    #[test]
    fn a_full_queue_refuses_and_the_end_comes_after_what_is_queued() {
        let (tx, rx) = channel(2);
        tx.try_send(frame(0, false)).unwrap();
        tx.try_send(frame(1, false)).unwrap();
        assert_eq!(tx.try_send(frame(2, true)), Err(Refused::Full));
        drop(tx);
        let mut got = VecDeque::new();
        assert!(rx.recv_batch(&mut got, Duration::from_secs(3600)));
        assert_eq!(pts(&got), vec![0, 1]);
        assert!(!rx.recv_batch(&mut got, Duration::from_secs(3600)));
    }

    #[test]
    fn the_end_wakes_a_sleeping_consumer_and_a_gone_consumer_refuses() {
        let (tx, rx) = channel(4);
        let consumer = std::thread::spawn(move || {
            let mut got = VecDeque::new();
            rx.recv_batch(&mut got, Duration::from_secs(3600))
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(tx);
        assert!(!consumer.join().unwrap());

        let (tx, rx) = channel(4);
        drop(rx);
        assert_eq!(tx.try_send(frame(0, true)), Err(Refused::Closed));
    }
}
