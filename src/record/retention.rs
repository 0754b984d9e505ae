//! Retention: which recordings to delete (a pure planner) and deleting them
//! crash-safely (mark, unlink, forget). Oldest first, under a maximum age, a total
//! byte cap, per-camera byte caps and a minimum of free disk space.

use super::layout;
use crate::store::{SegmentBrief, SegmentClass, SegmentState, Store};
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Segments and bytes retention has deleted since this process started, for `/metrics`.
pub static DELETED_SEGMENTS: AtomicU64 = AtomicU64::new(0);
pub static DELETED_BYTES: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Age limit of every recording, unless its class has its own.
    pub max_age_us: Option<i64>,
    /// Age limits by class: layered retention.
    pub class_max_age_us: HashMap<SegmentClass, i64>,
    pub max_bytes: Option<u64>,
    pub camera_max_bytes: HashMap<String, u64>,
    pub min_free: u64,
    /// Motion events (with their snapshots) and activity older than this go.
    pub event_max_age_us: Option<i64>,
}

impl Policy {
    /// The policy a config sets.
    pub fn of(cfg: &crate::config::Config) -> Policy {
        use crate::media::clock::duration_us;
        Policy {
            max_age_us: cfg.storage.max_age.map(duration_us),
            max_bytes: cfg.storage.max_bytes,
            camera_max_bytes: cfg
                .cameras
                .iter()
                .filter_map(|c| c.max_bytes.map(|b| (c.name.clone(), b)))
                .collect(),
            min_free: cfg.storage.min_free,
            class_max_age_us: [
                (SegmentClass::Continuous, cfg.storage.continuous_max_age),
                (SegmentClass::Motion, cfg.storage.motion_max_age),
            ]
            .into_iter()
            .filter_map(|(c, a)| a.map(|a| (c, duration_us(a))))
            .collect(),
            event_max_age_us: cfg.storage.event_max_age.map(duration_us),
        }
    }

    /// The age limit of a segment of `class`, if any.
    pub fn max_age_of(&self, class: SegmentClass) -> Option<i64> {
        self.class_max_age_us
            .get(&class)
            .copied()
            .or(self.max_age_us)
    }
}

/// A segment retention may delete.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: i64,
    pub camera: String,
    pub end_us: i64,
    pub bytes: u64,
    pub class: SegmentClass,
}

/// Returns the ids to delete. `segments` are the oldest complete segments, oldest
/// first (not necessarily all of them); `totals` the bytes each camera holds in
/// all, segments being written included.
pub fn plan(
    segments: &[Candidate],
    totals: &HashMap<String, u64>,
    policy: &Policy,
    now_us: i64,
    free_bytes: u64,
) -> Vec<i64> {
    let mut doomed = vec![false; segments.len()];
    for (i, s) in segments.iter().enumerate() {
        let age = policy.max_age_of(s.class);
        if age.is_some_and(|a| s.end_us < now_us - a) {
            doomed[i] = true;
        }
    }
    // Deletes oldest deletable segments matching `filter` until `excess` bytes are gone.
    let trim = |doomed: &mut Vec<bool>, filter: &dyn Fn(&Candidate) -> bool, excess: u64| {
        let mut freed = 0;
        for (i, s) in segments.iter().enumerate() {
            if freed >= excess {
                break;
            }
            if !doomed[i] && filter(s) {
                doomed[i] = true;
                freed += s.bytes;
            }
        }
    };
    // Bytes that stay: the totals less what is doomed.
    let kept = |doomed: &Vec<bool>, cam: Option<&str>| -> u64 {
        let total = match cam {
            Some(c) => totals.get(c).copied().unwrap_or(0),
            None => totals.values().sum(),
        };
        let gone: u64 = segments
            .iter()
            .zip(doomed)
            .filter(|(s, d)| **d && cam.is_none_or(|c| s.camera == c))
            .map(|(s, _)| s.bytes)
            .sum();
        total.saturating_sub(gone)
    };
    let mut cams: Vec<_> = policy.camera_max_bytes.iter().collect();
    cams.sort();
    for (cam, &cap) in cams {
        let f = |s: &Candidate| &s.camera == cam;
        let used = kept(&doomed, Some(cam));
        if used > cap {
            trim(&mut doomed, &f, used - cap);
        }
    }
    let all = |_: &Candidate| true;
    if let Some(cap) = policy.max_bytes {
        let used = kept(&doomed, None);
        if used > cap {
            trim(&mut doomed, &all, used - cap);
        }
    }
    let already: u64 = segments
        .iter()
        .zip(&doomed)
        .filter(|(_, d)| **d)
        .map(|(s, _)| s.bytes)
        .sum();
    let free_after = free_bytes.saturating_add(already);
    if free_after < policy.min_free {
        trim(&mut doomed, &all, policy.min_free - free_after);
    }
    segments
        .iter()
        .zip(doomed)
        .filter(|(_, d)| *d)
        .map(|(s, _)| s.id)
        .collect()
}

/// Free bytes on the file system holding `path`.
pub fn free_space(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: statvfs is plain data; all-zero is a valid value to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Segments per camera one pass considers: a pass every half minute catches up
/// with any backlog in a few passes, and memory stays small however much is kept.
const PASS_PER_CAMERA: i64 = 2000;

/// One retention pass: plans and deletes. Returns how many segments and bytes went.
pub fn run_once(data_dir: &Path, store: &Store, policy: &Policy) -> anyhow::Result<(usize, u64)> {
    if let Some(age) = policy.event_max_age_us {
        let n = store.delete_events_before(chrono::Utc::now().timestamp_micros() - age)?;
        if n > 0 {
            tracing::info!("retention deleted {n} motion events");
        }
    }
    let oldest = store.oldest_segments(PASS_PER_CAMERA)?;
    let totals = store.bytes_per_camera()?;
    let cands: Vec<Candidate> = oldest
        .iter()
        .map(|r| Candidate {
            id: r.id,
            camera: r.camera.clone(),
            end_us: r.end_us,
            bytes: r.bytes,
            class: r.class,
        })
        .collect();
    let now_us = chrono::Utc::now().timestamp_micros();
    let free = free_space(data_dir)?;
    let ids = plan(&cands, &totals, policy, now_us, free);
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let rows: Vec<&SegmentBrief> = oldest.iter().filter(|r| ids.contains(&r.id)).collect();
    let bytes = remove(data_dir, store, &rows)?;
    tracing::info!("retention deleted {} segments, {} bytes", ids.len(), bytes);
    DELETED_SEGMENTS.fetch_add(ids.len() as u64, Ordering::Relaxed);
    DELETED_BYTES.fetch_add(bytes, Ordering::Relaxed);
    Ok((ids.len(), bytes))
}

/// Deletes segments crash-safely: marked, unlinked, their directories synced,
/// then forgotten. Returns the bytes freed.
fn remove(data_dir: &Path, store: &Store, rows: &[&SegmentBrief]) -> anyhow::Result<u64> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    store.set_state(&ids, SegmentState::Deleting)?;
    let mut bytes = 0;
    let mut dirs = std::collections::BTreeSet::new();
    for r in rows {
        let path = layout::absolute(data_dir, &r.path);
        match std::fs::remove_file(&path) {
            Ok(()) => bytes += r.bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow::anyhow!("cannot delete {}: {e}", r.path)),
        }
        dirs.extend(path.parent().map(Path::to_path_buf));
    }
    // The unlinks are durable before the rows go: a power cut can leave rows
    // marked deleting (finished at start-up), never rows without their files.
    for d in &dirs {
        super::dir_sync::sync_dir(d).with_context(|| format!("cannot sync {}", d.display()))?;
    }
    store.delete_segments(&ids)?;
    // Marking shredded the sealed files' keys (the index's triggers); the
    // write-ahead log is emptied so no copy of them lingers there either.
    if let Err(e) = store.checkpoint() {
        tracing::warn!("cannot checkpoint the index after retention: {e}");
    }
    Ok(bytes)
}

/// Deletes every finished recording of a camera now (a removed camera's, when
/// the admin asks). Returns the segments and bytes that went.
pub fn delete_camera(data_dir: &Path, store: &Store, camera: &str) -> anyhow::Result<(usize, u64)> {
    let (mut segments, mut bytes) = (0, 0);
    loop {
        let batch = store.oldest_segments(PASS_PER_CAMERA)?;
        let rows: Vec<&SegmentBrief> = batch.iter().filter(|r| r.camera == camera).collect();
        if rows.is_empty() {
            break;
        }
        bytes += remove(data_dir, store, &rows)?;
        segments += rows.len();
    }
    tracing::info!(camera = %camera, "deleted all {segments} recorded segments, {bytes} bytes");
    Ok((segments, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interleaved cameras a and b, 100 bytes each, one per minute, oldest first;
    /// segment 9 (camera b) is being written, so only counts in the totals.
    fn segs() -> Vec<Candidate> {
        (0..9)
            .map(|i| Candidate {
                id: i,
                camera: if i % 2 == 0 { "a" } else { "b" }.into(),
                end_us: i * 60_000_000,
                bytes: 100,
                class: if i % 3 == 0 {
                    SegmentClass::Motion
                } else {
                    SegmentClass::Continuous
                },
            })
            .collect()
    }

    fn totals() -> HashMap<String, u64> {
        HashMap::from([("a".to_owned(), 500), ("b".to_owned(), 500)])
    }

    #[test]
    fn age_deletes_only_the_old() {
        let p = Policy {
            max_age_us: Some(300_000_000),
            ..Policy::default()
        };
        assert_eq!(
            plan(&segs(), &totals(), &p, 600_000_000, u64::MAX),
            vec![0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn layered_ages_keep_motion_footage_longer() {
        let mut p = Policy {
            max_age_us: Some(600_000_000),
            ..Policy::default()
        };
        p.class_max_age_us
            .insert(SegmentClass::Continuous, 300_000_000);
        p.class_max_age_us.insert(SegmentClass::Motion, 420_000_000);
        // At 10 min: continuous older than 5 min goes (1, 2, 4), motion older than
        // 7 min (0); motion segment 3 (ends 3 min) stays though continuous 4 goes.
        assert_eq!(
            plan(&segs(), &totals(), &p, 600_000_000, u64::MAX),
            vec![0, 1, 2, 4]
        );
    }

    #[test]
    fn total_cap_deletes_oldest_first() {
        let p = Policy {
            max_bytes: Some(650),
            ..Policy::default()
        };
        assert_eq!(plan(&segs(), &totals(), &p, 0, u64::MAX), vec![0, 1, 2, 3]);
    }

    #[test]
    fn camera_cap_touches_only_that_camera() {
        let mut p = Policy::default();
        p.camera_max_bytes.insert("b".into(), 200);
        // b has 1,3,5,7,9 (9 is open): delete 1, 3, 5.
        assert_eq!(plan(&segs(), &totals(), &p, 0, u64::MAX), vec![1, 3, 5]);
    }

    #[test]
    fn free_floor_counts_what_is_already_going() {
        let p = Policy {
            max_bytes: Some(900),
            min_free: 1000,
            ..Policy::default()
        };
        // 100 over the cap, and 250 short of the floor (which the first 100 helps).
        assert_eq!(plan(&segs(), &totals(), &p, 0, 750), vec![0, 1, 2]);
    }

    #[test]
    fn open_segments_are_never_deleted() {
        let p = Policy {
            max_bytes: Some(0),
            ..Policy::default()
        };
        assert!(!plan(&segs(), &totals(), &p, 0, u64::MAX).contains(&9));
        // With only the two oldest of each camera in view, a cap takes what it can.
        let few: Vec<Candidate> = segs().into_iter().filter(|c| c.id < 4).collect();
        assert_eq!(
            plan(
                &few,
                &totals(),
                &Policy {
                    max_bytes: Some(100),
                    ..Policy::default()
                },
                0,
                u64::MAX
            ),
            vec![0, 1, 2, 3]
        );
    }
}
