//! Delivery to one HTTP destination (a webhook or a push server): a bounded
//! queue that drops the oldest request when full, each request tried a few
//! times with backoff and then given up, both counted and logged. A request
//! carrying a picture is audited before it is first sent, and not sent when the
//! audit cannot be written. The queue is filled without waiting, so a receiver
//! that is down or slow never holds up detection or recording.

use super::requests::Request;
use crate::audit_record::Record;
use crate::egress::{Reach, http};
use crate::security::audit_log::AuditLog;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Requests waiting per destination.
const QUEUE: usize = 100;
/// Tries per request, the waits between them doubling from [`FIRST_WAIT`].
const TRIES: u32 = 4;
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// One try's limit, connection to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A request and, when it carries footage, its audit entry.
pub struct Job {
    pub request: Request,
    pub audit: Option<Record>,
}

#[derive(Default)]
pub struct Counts {
    pub sent: AtomicU64,
    /// Dropped from a full queue.
    pub dropped: AtomicU64,
    /// Given up on after every try.
    pub failed: AtomicU64,
}

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Notify,
}

/// One destination's queue and its worker task.
pub struct Destination {
    /// What the logs call it: its kind and host, never its path or token.
    pub name: String,
    queue: Arc<Queue>,
    pub counts: Arc<Counts>,
}

impl Destination {
    pub fn spawn(
        name: String,
        reach: Reach,
        audit: Arc<AuditLog>,
        shutdown: watch::Receiver<bool>,
    ) -> Destination {
        let queue = Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: Notify::new(),
        });
        let counts = Arc::new(Counts::default());
        let worker = Worker {
            name: name.clone(),
            agent: http::agent(reach, TIMEOUT),
            queue: queue.clone(),
            counts: counts.clone(),
            audit,
        };
        tokio::spawn(worker.run(shutdown));
        Destination {
            name,
            queue,
            counts,
        }
    }

    /// Queues `job` without waiting; a full queue loses its oldest.
    pub fn send(&self, job: Job) {
        let mut q = self.queue.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= QUEUE {
            q.pop_front();
            let n = self.counts.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!("alerts to {}: queue full, {n} dropped so far", self.name);
            }
        }
        q.push_back(job);
        drop(q);
        self.queue.ready.notify_one();
    }
}

struct Worker {
    name: String,
    agent: http::Agent,
    queue: Arc<Queue>,
    counts: Arc<Counts>,
    audit: Arc<AuditLog>,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        loop {
            let job = this
                .queue
                .jobs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            let Some(job) = job else {
                tokio::select! {
                    () = this.queue.ready.notified() => continue,
                    () = super::stopped(&mut shutdown) => return,
                }
            };
            tokio::select! {
                () = Worker::deliver(this.clone(), job) => {}
                () = super::stopped(&mut shutdown) => return,
            }
        }
    }

    /// Tries `job` until it is answered, refused for good, or out of tries.
    async fn deliver(this: Arc<Worker>, job: Job) {
        if let Some(r) = job.audit {
            let w = this.clone();
            let audited = tokio::task::spawn_blocking(move || w.audit.append(r)).await;
            if !matches!(audited, Ok(Ok(()))) {
                tracing::error!(
                    "alerts to {}: a picture not sent, as its audit entry could not be written",
                    this.name
                );
                this.counts.failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let req = Arc::new(job.request);
        let mut wait = FIRST_WAIT;
        for attempt in 1..=TRIES {
            let (w, r) = (this.clone(), req.clone());
            let result = tokio::task::spawn_blocking(move || {
                http::send(&w.agent, r.method, r.url.as_str(), &r.headers, &r.body)
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let why = match result {
                Ok(s) if (200..300).contains(&s) => {
                    this.counts.sent.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                // A refusal that trying again will not change.
                Ok(s) if (400..500).contains(&s) && s != 408 && s != 429 => {
                    tracing::warn!(
                        "alerts to {}: refused with HTTP {s}; not tried again",
                        this.name
                    );
                    this.counts.failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Ok(s) => format!("HTTP {s}"),
                Err(e) => e,
            };
            if attempt == TRIES {
                let n = this.counts.failed.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    "alerts to {}: given up after {TRIES} tries ({why}); {n} given up so far",
                    this.name
                );
                return;
            }
            tracing::debug!("alerts to {}: try {attempt} failed ({why})", this.name);
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
}
