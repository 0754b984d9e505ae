//! The camera sessions' own runtime: one thread that drives every RTSP session,
//! apart from the runtime serving the web, alerts and housekeeping. A frame
//! arriving wakes only this thread, which reads it, hands it to the hub and
//! sleeps again; on the shared multi-thread runtime the worker that woke would
//! also wake a sibling to look for work, a second thread switch per frame. The
//! sessions' work per frame is small (parsing and a hand-off, no decoding or
//! disk), so one thread carries many cameras; recording and detection run on
//! threads of their own.

use std::time::{Duration, Instant};
use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// How long the sessions' last tasks (retina's background TEARDOWNs, sent when a
/// session is dropped) may take after the stop.
const GRACE: Duration = Duration::from_secs(1);

/// The runtime's thread; it ends when this is dropped.
pub struct IngestRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl IngestRuntime {
    pub fn start() -> std::io::Result<IngestRuntime> {
        let rt = Builder::new_current_thread().enable_all().build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hearth-ingest".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                    let until = Instant::now() + GRACE;
                    let metrics = Handle::current().metrics();
                    while metrics.num_alive_tasks() > 0 && Instant::now() < until {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                });
            })?;
        Ok(IngestRuntime {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where camera sessions are spawned.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for IngestRuntime {
    /// Waits (at most [`GRACE`]) for the sessions' last tasks, then ends the thread.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_the_ingest_thread_and_their_handles_await_from_anywhere() {
        let ingest = IngestRuntime::start().expect("start");
        let task = ingest
            .handle()
            .spawn(async { std::thread::current().name().map(str::to_owned) });
        let main = Builder::new_current_thread().build().expect("runtime");
        let name = main.block_on(task).expect("join");
        assert_eq!(name.as_deref(), Some("hearth-ingest"));
    }

    #[test]
    fn dropping_it_lets_a_last_task_finish() {
        let ingest = IngestRuntime::start().expect("start");
        let (tx, rx) = std::sync::mpsc::channel();
        ingest.handle().spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = tx.send(());
        });
        drop(ingest);
        assert!(rx.try_recv().is_ok(), "the task was cut off");
    }
}
