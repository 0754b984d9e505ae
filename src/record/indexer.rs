//! The index side of one stream's recording: a thread that applies the recorder's
//! changes to the index in order, so that an index which refuses them for a while
//! (another process holding SQLite's lock, no room for the index on the disk)
//! never holds up the files. Refused changes wait and are tried again; changes to
//! the same segment that pile up meanwhile are folded into the latest one, and the
//! index catches up once it takes them.
//!
//! The recorder sends a change only for what is already synced to its file, so
//! the index never names more than the files hold.

use super::{dir_sync, reserve};
use crate::store::{NewSegment, Progress, SegmentState, Store, StoreError};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A segment as the recorder knows it, before and after the index gives it an id.
pub type Key = u64;

#[derive(Debug)]
pub enum Change {
    /// A new segment whose file and init segment are on disk.
    Insert(Key, NewSegment),
    /// How much of the segment's file is synced, and whether it is finished.
    Progress(Key, Progress, SegmentState),
    /// A segment that got no video: its row goes (if it has one), then its file.
    Discard(Key, PathBuf),
}

impl Change {
    fn key(&self) -> Key {
        match self {
            Change::Insert(k, _) | Change::Progress(k, ..) | Change::Discard(k, _) => *k,
        }
    }
}

/// Changes not yet in the index, in order (pure: no I/O).
#[derive(Debug, Default)]
pub struct Pending(VecDeque<Change>);

impl Pending {
    /// Queues a change, folding it into what is already waiting for its segment:
    /// a newer progress replaces an older one, and discarding a segment whose
    /// insert is still waiting leaves only the file to remove.
    pub fn push(&mut self, c: Change) {
        let key = c.key();
        match c {
            Change::Progress(..) => {
                if let Some(old) = self
                    .0
                    .iter_mut()
                    .find(|o| matches!(o, Change::Progress(k, ..) if *k == key))
                {
                    *old = c;
                    return;
                }
            }
            Change::Discard(..) => self.0.retain(
                |o| !matches!(o, Change::Insert(k, _) | Change::Progress(k, ..) if *k == key),
            ),
            Change::Insert(..) => {}
        }
        self.0.push_back(c);
    }

    pub fn front(&self) -> Option<&Change> {
        self.0.front()
    }

    pub fn pop(&mut self) {
        self.0.pop_front();
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Wait before trying a refused change again (SQLite's busy timeout has usually
/// waited already).
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long changes are still tried once the recorder has stopped; what is left
/// after that, start-up recovery re-derives from the files.
const DRAIN_FOR: Duration = Duration::from_secs(15);

/// The recorder's end of the indexer: sends changes, never waits for the index.
pub struct Indexer {
    tx: Option<mpsc::Sender<Change>>,
    thread: Option<std::thread::JoinHandle<()>>,
    next_key: Key,
}

impl Indexer {
    pub fn spawn(store: Arc<Store>, data_dir: PathBuf, label: String) -> std::io::Result<Indexer> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("idx-{label}"))
            .spawn(move || run(&store, &data_dir, &label, rx))?;
        Ok(Indexer {
            tx: Some(tx),
            thread: Some(thread),
            next_key: 0,
        })
    }

    /// A key for a new segment.
    pub fn new_key(&mut self) -> Key {
        self.next_key += 1;
        self.next_key
    }

    pub fn send(&self, c: Change) {
        // The thread ends only after the sender is gone.
        if let Some(tx) = &self.tx {
            let _ = tx.send(c);
        }
    }

    /// Waits until the changes sent are in the index, or given up on.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(store: &Store, data_dir: &Path, label: &str, rx: mpsc::Receiver<Change>) {
    let mut pending = Pending::default();
    let mut ids: HashMap<Key, i64> = HashMap::new();
    // Since when the index has been refusing changes.
    let mut refusing: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    loop {
        // Take what has come: wait for it when nothing is pending, else only until
        // the next try.
        let got = if pending.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else if drain_until.is_some() {
            Err(RecvTimeoutError::Disconnected)
        } else {
            let wait = if refusing.is_some() {
                RETRY_AFTER
            } else {
                Duration::ZERO
            };
            rx.recv_timeout(wait)
        };
        match got {
            Ok(c) => pending.push(c),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                if pending.is_empty() {
                    break;
                }
                let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN_FOR);
                if Instant::now() >= until {
                    tracing::warn!(
                        stream = label,
                        "index still refuses {} changes at shutdown; the next start re-derives them from the files",
                        pending.len()
                    );
                    break;
                }
                if refusing.is_some() {
                    std::thread::sleep(RETRY_AFTER);
                }
            }
        }
        while let Ok(c) = rx.try_recv() {
            pending.push(c);
        }
        while let Some(c) = pending.front() {
            match apply(store, &mut ids, c) {
                Ok(()) => pending.pop(),
                Err(e) => {
                    if e.is_disk_full() {
                        reserve::release(data_dir);
                    }
                    if refusing.is_none() {
                        tracing::warn!(
                            stream = label,
                            "index refuses the recording's changes ({e}); footage is still written and the index catches up when it can"
                        );
                        refusing = Some(Instant::now());
                    }
                    break;
                }
            }
        }
        if pending.is_empty() {
            if let Some(since) = refusing.take() {
                tracing::info!(
                    stream = label,
                    "index caught up after {:.1} s",
                    since.elapsed().as_secs_f64()
                );
            }
        }
    }
}

fn apply(store: &Store, ids: &mut HashMap<Key, i64>, c: &Change) -> Result<(), StoreError> {
    match c {
        Change::Insert(key, seg) => {
            ids.insert(*key, store.insert_segment(seg)?);
        }
        Change::Progress(key, progress, state) => {
            let Some(&id) = ids.get(key) else {
                return Ok(());
            };
            store.update_segment(id, progress, *state)?;
            if *state == SegmentState::Complete {
                ids.remove(key);
            }
        }
        Change::Discard(key, path) => {
            if let Some(&id) = ids.get(key) {
                store.delete_segments(&[id])?;
                ids.remove(key);
            }
            let removed = match std::fs::remove_file(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                r => r.and_then(|_| dir_sync::sync_parent(path)),
            };
            if let Err(e) = removed {
                // Recovery removes a file with no video at the next start.
                tracing::warn!("{}: cannot remove empty segment: {e}", path.display());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SegmentClass;

    fn seg() -> NewSegment {
        NewSegment {
            stream_id: 1,
            start_us: 0,
            path: "a.mp4".into(),
            codec: "avc1.64001f".into(),
            width: 640,
            height: 360,
            sample_entry: vec![],
            audio: None,
            bytes: 100,
            class: SegmentClass::Continuous,
            key_id: None,
        }
    }

    fn progress(frames: u64) -> Progress {
        Progress {
            frames,
            ..Progress::default()
        }
    }

    fn shape(p: &Pending) -> Vec<String> {
        p.0.iter()
            .map(|c| match c {
                Change::Insert(k, _) => format!("insert {k}"),
                Change::Progress(k, p, s) => format!("progress {k} {} {s:?}", p.frames),
                Change::Discard(k, _) => format!("discard {k}"),
            })
            .collect()
    }

    #[test]
    fn progress_that_piles_up_is_folded_into_the_latest() {
        let mut p = Pending::default();
        p.push(Change::Insert(1, seg()));
        p.push(Change::Progress(1, progress(10), SegmentState::Open));
        p.push(Change::Progress(1, progress(20), SegmentState::Open));
        p.push(Change::Insert(2, seg()));
        p.push(Change::Progress(1, progress(30), SegmentState::Complete));
        p.push(Change::Progress(2, progress(5), SegmentState::Open));
        assert_eq!(
            shape(&p),
            [
                "insert 1",
                "progress 1 30 Complete",
                "insert 2",
                "progress 2 5 Open"
            ]
        );
    }

    #[test]
    fn discarding_a_waiting_segment_leaves_only_the_file_to_remove() {
        let mut p = Pending::default();
        p.push(Change::Insert(1, seg()));
        p.push(Change::Insert(2, seg()));
        p.push(Change::Progress(2, progress(1), SegmentState::Open));
        p.push(Change::Discard(2, "b.mp4".into()));
        assert_eq!(shape(&p), ["insert 1", "discard 2"]);
    }

    #[test]
    fn a_busy_index_takes_every_change_once_free() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("index.db");
        let store = Arc::new(Store::open(&db).unwrap());
        let stream_id = store
            .stream_id("front", crate::config::StreamKind::Main)
            .unwrap();
        // Another process's write lock, held while the recorder goes on.
        let other = rusqlite::Connection::open(&db).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        store.set_busy_timeout(Duration::from_millis(50)).unwrap();
        let mut ix = Indexer::spawn(store.clone(), dir.path().into(), "front-main".into()).unwrap();
        for n in 0..3 {
            let k = ix.new_key();
            let s = NewSegment {
                stream_id,
                start_us: n * 1_000_000,
                path: format!("s{n}.mp4"),
                ..seg()
            };
            ix.send(Change::Insert(k, s));
            for f in 1..=5 {
                ix.send(Change::Progress(k, progress(f), SegmentState::Open));
            }
            ix.send(Change::Progress(k, progress(6), SegmentState::Complete));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(store.all_segments().unwrap().is_empty());
        other.execute_batch("COMMIT").unwrap();
        ix.finish();
        let rows = store.all_segments().unwrap();
        assert_eq!(rows.len(), 3);
        assert!(
            rows.iter()
                .all(|r| r.progress.frames == 6 && r.state == SegmentState::Complete)
        );
    }
}
