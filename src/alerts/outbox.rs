//! Messages waiting for the broker (pure): bounded, the oldest dropped and
//! counted when full, and a state message replacing a queued one of the same
//! topic (only the newest state matters), so a broker that is away for a day
//! costs a fixed amount of memory and comes back to the current states.

use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    /// A state (kept by the broker for new subscribers), not a happening.
    pub retain: bool,
}

impl Message {
    pub fn state(topic: String, payload: impl Into<Vec<u8>>) -> Message {
        Message {
            topic,
            payload: payload.into(),
            retain: true,
        }
    }

    pub fn happening(topic: String, payload: impl Into<Vec<u8>>) -> Message {
        Message {
            topic,
            payload: payload.into(),
            retain: false,
        }
    }
}

pub struct Outbox {
    queue: VecDeque<Message>,
    capacity: usize,
    /// Messages dropped since the start, to make room.
    pub dropped: u64,
}

impl Outbox {
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    pub fn push(&mut self, m: Message) {
        if m.retain
            && let Some(old) = self
                .queue
                .iter_mut()
                .find(|q| q.retain && q.topic == m.topic)
        {
            *old = m;
            return;
        }
        if self.queue.len() == self.capacity {
            self.queue.pop_front();
            self.dropped += 1;
        }
        self.queue.push_back(m);
    }

    pub fn pop(&mut self) -> Option<Message> {
        self.queue.pop_front()
    }

    /// A message taken but not sent goes back to the front.
    pub fn unpop(&mut self, m: Message) {
        self.queue.push_front(m);
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_drops_the_oldest_and_counts_and_states_coalesce() {
        let mut o = Outbox::new(3);
        for i in 0..5 {
            o.push(Message::happening("e".into(), format!("{i}")));
        }
        assert_eq!((o.len(), o.dropped), (3, 2));
        assert_eq!(o.pop().unwrap().payload, b"2");
        o.push(Message::state("s".into(), "ON"));
        o.push(Message::state("s".into(), "OFF"));
        assert_eq!((o.len(), o.dropped), (3, 2));
        let all: Vec<Message> = std::iter::from_fn(|| o.pop()).collect();
        assert_eq!(all.last().unwrap().payload, b"OFF");
        o.unpop(Message::state("s".into(), "ON"));
        assert!(!o.is_empty());
    }
}
