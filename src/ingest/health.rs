//! Per-stream health kept in memory: connected since, frame rate and bit rate over
//! the last seconds, totals, reconnects and the last error (never a credential);
//! and the counters its recorder and detector keep as they go, for `/metrics`.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

const WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Inner {
    connected_since: Option<SystemTime>,
    frames: u64,
    bytes: u64,
    reconnects: u64,
    last_error: Option<String>,
    recent: VecDeque<(Instant, u32)>,
}

#[derive(Default)]
pub struct Health {
    inner: Mutex<Inner>,
    /// What the stream's recorder and detector have done so far.
    pub meters: Meters,
}

/// Counters of a stream's recorder and detector, read while they run.
#[derive(Default, Debug)]
pub struct Meters {
    pub recorded_frames: AtomicU64,
    /// Frames the recorder missed because it fell behind.
    pub dropped_frames: AtomicU64,
    /// Frames lost to write errors.
    pub failed_frames: AtomicU64,
    /// Frames waiting for the recorder when it last took them (a GOP, as a rule).
    pub queued_frames: AtomicU64,
    pub analysed_pictures: AtomicU64,
    /// Time spent decoding and analysing for detection, in µs.
    pub detection_us: AtomicU64,
    pub events: AtomicU64,
    /// 1 while detection decodes with the board's hardware decoder, else 0.
    pub hardware_decoding: AtomicU64,
}

impl Meters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A copy of a stream's health for display.
#[derive(Debug, Clone, Serialize)]
pub struct HealthSnapshot {
    pub connected_since: Option<SystemTime>,
    pub fps: f64,
    pub bitrate_bps: f64,
    pub frames: u64,
    pub bytes: u64,
    pub reconnects: u64,
    pub last_error: Option<String>,
}

impl Health {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn connected(&self) {
        self.lock().connected_since = Some(SystemTime::now());
    }

    pub fn disconnected(&self, error: String) {
        let mut h = self.lock();
        h.connected_since = None;
        h.reconnects += 1;
        h.last_error = Some(error);
        h.recent.clear();
    }

    pub fn frame(&self, now: Instant, bytes: usize) {
        let mut h = self.lock();
        h.frames += 1;
        h.bytes += bytes as u64;
        h.recent.push_back((now, crate::media::len_u32(bytes)));
        while h
            .recent
            .front()
            .is_some_and(|&(t, _)| now.duration_since(t) > WINDOW)
        {
            h.recent.pop_front();
        }
    }

    pub fn snapshot(&self) -> HealthSnapshot {
        let h = self.lock();
        let (fps, bitrate_bps) = match (h.recent.front(), h.recent.back()) {
            (Some(a), Some(b)) if h.recent.len() > 1 && b.0 > a.0 => {
                let secs = b.0.duration_since(a.0).as_secs_f64();
                let n = (h.recent.len() - 1) as f64;
                let bits: u64 = h
                    .recent
                    .iter()
                    .skip(1)
                    .map(|&(_, s)| u64::from(s) * 8)
                    .sum();
                (n / secs, bits as f64 / secs)
            }
            _ => (0.0, 0.0),
        };
        HealthSnapshot {
            connected_since: h.connected_since,
            fps,
            bitrate_bps,
            frames: h.frames,
            bytes: h.bytes,
            reconnects: h.reconnects,
            last_error: h.last_error.clone(),
        }
    }
}
