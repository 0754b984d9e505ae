//! The data directory's safety: a recordings disk that did not mount (an empty
//! mount point, or no directory at all) is refused with the directory and the
//! reason, never recorded onto; new files and directories, and retention's
//! unlinks, are fsynced at the directory level (seen in a real `strace` of a
//! recording run); and `verify` runs SQLite's integrity check on the index.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

fn one(port: u16, storage: &str) -> Nvr {
    Nvr::one(
        storage,
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    )
}

/// Runs `hearth run` and waits for it to exit by itself; returns (success, log).
fn run_expecting_exit(nvr: &Nvr) -> (bool, String) {
    let out = Command::new(HEARTH)
        .args(["run", "--config"])
        .arg(&nvr.config)
        .stdout(Stdio::null())
        .output()
        .expect("hearth run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_recordings_disk_that_is_not_mounted_is_refused_not_recorded_onto() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = one(port, "segment_duration = \"2s\"");
    nvr.record_for(4);
    let data = nvr.data();
    let recorded = nvr.segments().len();
    assert!(recorded > 0);

    // The disk is not mounted: the mount point is an empty directory.
    let disk = nvr.dir.path().join("disk-away");
    std::fs::rename(&data, &disk).expect("unmount");
    std::fs::create_dir(&data).expect("mount point");
    let (ok, log) = run_expecting_exit(&nvr);
    assert!(!ok, "recorded onto an empty mount point: {log}");
    assert!(
        log.contains(&data.display().to_string()) && log.contains("is its disk mounted"),
        "{log}"
    );
    let left: Vec<_> = std::fs::read_dir(&data).expect("read").collect();
    assert!(left.is_empty(), "wrote into the mount point: {left:?}");
    // The other commands refuse it too, rather than making an index there.
    let (ok, out) = nvr.cli(&["user", "list"]);
    assert!(!ok && out.contains("is its disk mounted"), "{out}");
    assert_eq!(std::fs::read_dir(&data).expect("read").count(), 0);

    // No directory at all (the disk held the data directory itself).
    std::fs::remove_dir(&data).expect("rmdir");
    let (ok, log) = run_expecting_exit(&nvr);
    assert!(!ok && log.contains("does not exist"), "{log}");
    assert!(!data.exists(), "created the data directory");

    // The disk is back: recording goes on where it was.
    std::fs::rename(&disk, &data).expect("mount");
    nvr.record_for(4);
    assert!(nvr.segments().len() > recorded, "{}", nvr.log_text());
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
}

/// `fsync` calls in an strace of a whole run, by the path of the fd synced.
fn synced_paths(trace: &str) -> BTreeSet<String> {
    trace
        .lines()
        .filter_map(|l| {
            let rest = l.split_once("fsync(")?.1;
            let path = rest.split_once('<')?.1.split_once('>')?.0;
            Some(path.to_owned())
        })
        .collect()
}

#[test]
fn new_names_and_unlinks_are_synced_at_the_directory() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    // Retention deletes as it goes: about 170 kB/s into 700 kB.
    let mut nvr = one(
        port,
        "segment_duration = \"2s\"\nretention_interval = \"1s\"\nmax_bytes = \"700kB\"\nmin_free = \"0\"",
    );
    let trace = nvr.start_traced("fsync,unlink,unlinkat");
    let deleted = wait_until(Duration::from_secs(60), || {
        nvr.log_text().contains("retention deleted")
    });
    sleep_s(2);
    nvr.stop();
    assert!(deleted, "retention never ran: {}", nvr.log_text());
    let text = read_trace(&trace);
    let synced = synced_paths(&text);

    let data = nvr.data().canonicalize().expect("data");
    let segs = nvr.segments();
    let day_dir = data.join(&segs[0].path);
    let day_dir = day_dir.parent().expect("day");
    // Every directory from the recordings root down to the day was created by
    // this run, and each creation was synced in its parent.
    let mut want = vec![day_dir.to_path_buf()];
    let mut d = day_dir;
    while let Some(p) = d.parent() {
        want.push(p.to_path_buf());
        if p == data {
            break;
        }
        d = p;
    }
    for w in &want {
        assert!(
            synced.contains(&w.display().to_string()),
            "{} never synced; synced: {synced:?}",
            w.display()
        );
    }
    // Each unlink of a segment is followed by a sync of its directory.
    let lines: Vec<&str> = text.lines().collect();
    let mut unlinks = 0;
    for (i, l) in lines.iter().enumerate() {
        if !(l.contains("unlink") && l.contains(".mp4\"") && l.ends_with("= 0")) {
            continue;
        }
        unlinks += 1;
        let dir = day_dir.display().to_string();
        assert!(
            lines[i..]
                .iter()
                .any(|m| m.contains("fsync(") && m.contains(&format!("<{dir}>"))),
            "no directory sync after {l}"
        );
    }
    assert!(unlinks > 0, "no segment unlinked: {text}");
}

#[test]
fn a_call_strace_split_across_threads_reads_whole() {
    // From a CI run: another thread's fsync interrupted the unlink of a segment.
    let text = whole_calls(
        "614   unlink(\"/d/23-39-09.mp4\" <unfinished ...>\n\
         616   <... fsync resumed>)              = 0\n\
         614   <... unlink resumed>)             = 0\n\
         614   fsync(16</d>) = 0\n",
    );
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "616   <... fsync resumed>)              = 0",
            "614   unlink(\"/d/23-39-09.mp4\")             = 0",
            "614   fsync(16</d>) = 0",
        ]
    );
}

#[test]
fn verify_runs_sqlites_integrity_check_on_the_index() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = one(port, "segment_duration = \"2s\"");
    nvr.record_for(4);
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
    // Damage the index in a way its tables still read fine: the events index
    // now claims to hold peaks where its entries hold times.
    {
        let c = rusqlite::Connection::open(nvr.data().join("hearth.db")).expect("open");
        c.execute_batch(
            "INSERT INTO events (camera, start_us, end_us, peak, peak_us, zones)
                 VALUES ('porch', 1000000, 2000000, 0.5, 1500000, '');
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = 'CREATE INDEX events_by_camera_time ON events (camera, peak)'
             WHERE name = 'events_by_camera_time';",
        )
        .expect("damage");
    }
    assert!(!nvr.segments().is_empty(), "the tables still read");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(!ok, "{out}");
    assert!(out.contains("the index is damaged"), "{out}");
}
