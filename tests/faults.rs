//! Fault runs: `kill -9` at pseudo-random moments, cycle after cycle. After each
//! crash the repair start-up does (`verify --repair`) leaves an index that
//! `hearth verify` passes, every file decodes as indexed, and what was lost is at
//! most the flush interval. `HEARTH_FAULT_CYCLES` sets the count (10 in the
//! suite; `HEARTH_FAULT_CYCLES=50 cargo test --release --test faults` for more).

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn kill_9_at_random_moments_loses_at_most_the_flush_interval() {
    let cycles: u32 = std::env::var("HEARTH_FAULT_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        "segment_duration = \"3s\"\nflush_interval = \"2s\"\nmin_free = \"1MB\"",
        "garage",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    // xorshift: the same moments every run, printed for a failing one.
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut worst_loss_ms = 0;
    for cycle in 0..cycles {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let run_ms = 4_000 + rng % 3_000;
        nvr.start();
        std::thread::sleep(std::time::Duration::from_millis(run_ms));
        let kill_us = now_us();
        nvr.kill9();
        let (ok, out) = nvr.cli(&["verify", "--repair"]);
        assert!(
            ok,
            "cycle {cycle} (killed after {run_ms} ms): repair: {out}"
        );
        let (ok, out) = nvr.cli(&["verify"]);
        assert!(
            ok,
            "cycle {cycle} (killed after {run_ms} ms): verify: {out}"
        );
        let segs = nvr.segments();
        check_segments(&nvr.data(), &segs);
        let last_end = segs.iter().map(|s| s.end_us()).max().expect("footage");
        let lost_ms = (kill_us - last_end) / 1000;
        assert!(
            lost_ms <= 2_000,
            "cycle {cycle}: killed after {run_ms} ms, lost {lost_ms} ms"
        );
        worst_loss_ms = worst_loss_ms.max(lost_ms);
    }
    println!("{cycles} kill -9 cycles: at most {worst_loss_ms} ms lost (flush interval 2000 ms)");
    assert!(!nvr.log_text().contains("panicked"), "{}", nvr.log_text());
}

/// Another process (Python's sqlite3 here, as a backup tool or a curious owner
/// with a shell would) holds the index's write lock for 20 s mid-recording.
#[test]
fn an_index_locked_by_another_process_for_20_s_loses_no_frame() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        "segment_duration = \"4s\"\nflush_interval = \"1s\"",
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.start();
    assert!(
        wait_until(Duration::from_secs(30), || nvr.segments().len() >= 2),
        "no footage before the lock: {}",
        nvr.log_text()
    );
    let db = nvr.data().join("hearth.db");
    let mut locker = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep(20)\n\
             c.execute('COMMIT')\n",
        ])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(locker.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("read");
    assert_eq!(line.trim(), "locked");
    let indexed_at_lock = nvr.segments().len();
    // While the index is locked, segments still reach the disk.
    let files = || mp4_files(&nvr.data().join("recordings")).len();
    sleep_s(12);
    let during = (files(), nvr.segments().len());
    assert!(
        during.0 >= indexed_at_lock + 2 && during.1 <= indexed_at_lock + 1,
        "12 s into the lock: {} files, {} indexed (at the lock: {indexed_at_lock} indexed)",
        during.0,
        during.1
    );
    assert!(locker.wait().expect("python3").success());
    // The index catches up.
    assert!(
        wait_until(Duration::from_secs(30), || files() == nvr.segments().len()),
        "index never caught up: {} files, {} indexed",
        files(),
        nvr.segments().len()
    );
    sleep_s(5);
    nvr.stop();

    let log = nvr.log_text();
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("index caught up"), "{log}");
    let reports = stop_reports(&log, "porch", "main");
    assert_eq!(reports.len(), 1, "{log}");
    let r = reports[0];
    assert_eq!((r.failed, r.dropped), (0, 0), "{r:?}");
    assert_eq!(r.recorded + r.before_key, r.received, "{r:?}");
    let segs = nvr.segments();
    assert_eq!(check_segments(&nvr.data(), &segs), r.recorded);
    for w in segs.windows(2) {
        let gap = w[1].start_us - w[0].end_us();
        assert!(
            gap.abs() <= 1,
            "segments not contiguous ({gap} µs): {segs:?}"
        );
    }
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok && out.starts_with("OK:"), "verify: {out}");
    println!(
        "index locked 20 s: {} segments, {} frames recorded, none lost; {} of them written while locked",
        segs.len(),
        r.recorded,
        during.0 - indexed_at_lock
    );
}

fn mp4_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(mp4_files(&p));
            } else if p.extension().is_some_and(|x| x == "mp4") {
                out.push(p);
            }
        }
    }
    out
}
