//! Fault runs: `kill -9` at pseudo-random moments, cycle after cycle. After each
//! crash the repair start-up does (`verify --repair`) leaves an index that
//! `hearth verify` passes, every file decodes as indexed, and what was lost is at
//! most the flush interval. `HEARTH_FAULT_CYCLES` sets the count (10 in the
//! suite; `HEARTH_FAULT_CYCLES=50 cargo test --release --test faults` for more).
//! Also: the index locked by another process, and a camera flapping up and down.

mod common;

use common::*;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    // The indexer may have waited the lock out within SQLite's busy timeout (10 s,
    // behind the motion thread's own wait); once it was refused, it says it caught up.
    assert!(
        !log.contains("index refuses") || log.contains("index caught up"),
        "{log}"
    );
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

/// A TCP proxy to `upstream` that cuts every connection `up` after it opened
/// (both ways), like a camera that keeps rebooting; counts its cuts.
fn flapping_proxy(upstream: u16, up: Duration) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cuts = Arc::new(AtomicU64::new(0));
    let counted = cuts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let ends = [&client, &server].map(|s| s.try_clone().expect("clone"));
            for (mut from, mut to) in [
                (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                ),
                (
                    server.try_clone().expect("clone"),
                    client.try_clone().expect("clone"),
                ),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Both);
                });
            }
            let counted = counted.clone();
            std::thread::spawn(move || {
                std::thread::sleep(up);
                for s in &ends {
                    let _ = s.shutdown(Shutdown::Both);
                }
                counted.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (port, cuts)
}

/// Open file descriptors and resident memory (KiB) of a process.
fn fds_and_rss(pid: i32) -> (usize, u64) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    (fds, rss)
}

/// A camera up for a second, down, up again, 100 times (`HEARTH_FLAP_CYCLES` for
/// more): Hearth reconnects each time without holding on to descriptors or memory,
/// and the steady camera beside it loses no frame.
#[test]
fn a_flapping_camera_leaks_nothing_and_disturbs_no_other() {
    let cycles: u64 = std::env::var("HEARTH_FLAP_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (steady, flappy) = (free_port(), free_port());
    let _steady_cam = fake_camera(steady, None);
    let _flappy_cam = fake_camera(flappy, None);
    let (proxy, cuts) = flapping_proxy(flappy, Duration::from_millis(1200));
    // The index's page cache fills as the index grows, up to its 2 MiB by
    // default: kept small, it is full before the first sample, so what grows
    // after it is a leak.
    let mut nvr = Nvr::new(
        "segment_duration = \"4s\"\nindex_cache = \"256KiB\"",
        &[
            Cam {
                name: "steady",
                url: format!("rtsp://127.0.0.1:{steady}/main"),
                auth: None,
                extra: "",
            },
            Cam {
                name: "flappy",
                url: format!("rtsp://127.0.0.1:{proxy}/sub"),
                auth: None,
                extra: "",
            },
        ],
    );
    // glibc moves its mmap threshold up to the largest block freed (a decoded
    // picture, a key frame), after which such blocks stay in the heap until it
    // is trimmed: RSS swings by several MB with no leak. A fixed threshold
    // keeps large blocks out of the heap, so RSS shows what is held.
    nvr.env = vec![("MALLOC_MMAP_THRESHOLD_", "131072")];
    nvr.start();
    let pid = nvr.proc.as_ref().expect("running").pid();
    // Sampled half a second after each cut (no connection to the flapping camera
    // open then): the most at cycles 10–20, against the most at the last ten.
    // A camera that was up when tried is tried again at once: about 2.5 s a
    // cycle; backing off to 30 s would take the whole test for a tenth of them.
    let deadline = std::time::Instant::now() + Duration::from_secs(6 * cycles);
    let (mut warm, mut last) = ((0, 0), Vec::new());
    let mut seen = 0;
    while seen < cycles {
        let now = cuts.load(Ordering::SeqCst);
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            wait_until(left, || cuts.load(Ordering::SeqCst) > now),
            "the flapping camera was reconnected only {now} times in {} s",
            6 * cycles
        );
        seen = cuts.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(500));
        let (fds, rss) = fds_and_rss(pid);
        if seen % 25 == 0 {
            println!("cycle {seen}: {fds} descriptors, {rss} KiB resident");
        }
        if (10..=20).contains(&seen) {
            warm = (warm.0.max(fds), warm.1.max(rss));
        }
        if seen + 10 > cycles {
            last.push((fds, rss));
        }
    }
    nvr.stop();
    let end = last
        .iter()
        .fold((0, 0), |a, &(f, r)| (a.0.max(f), a.1.max(r)));
    let log = nvr.log_text();
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        end.0 <= warm.0,
        "open descriptors grew from {} to {} over {cycles} cycles",
        warm.0,
        end.0
    );
    assert!(
        end.1 <= warm.1 + 4 * 1024,
        "memory grew from {} to {} KiB over {cycles} cycles",
        warm.1,
        end.1
    );
    // The steady camera: everything it sent recorded, one contiguous run.
    let r = stop_reports(&log, "steady", "main");
    assert_eq!(r.len(), 1, "{log}");
    assert_eq!((r[0].failed, r[0].dropped), (0, 0), "{:?}", r[0]);
    assert_eq!(r[0].recorded + r[0].before_key, r[0].received, "{:?}", r[0]);
    let segs = nvr.segments();
    let steady_segs: Vec<_> = segs
        .iter()
        .filter(|s| s.camera == "steady")
        .cloned()
        .collect();
    assert_eq!(check_segments(&nvr.data(), &steady_segs), r[0].recorded);
    for w in steady_segs.windows(2) {
        let gap = w[1].start_us - w[0].end_us();
        assert!(
            gap.abs() <= 1,
            "steady camera: segments not contiguous ({gap} µs)"
        );
    }
    // The flapping camera: a segment from (almost) every time it was up.
    let flappy_segs: Vec<_> = segs
        .iter()
        .filter(|s| s.camera == "flappy")
        .cloned()
        .collect();
    check_segments(&nvr.data(), &flappy_segs);
    let sessions = log
        .lines()
        .filter(|l| l.contains("rtsp: connected") && l.contains("camera=flappy"))
        .count();
    assert!(
        flappy_segs.len() as u64 >= cycles * 9 / 10,
        "{} segments from {cycles} cycles",
        flappy_segs.len()
    );
    println!(
        "{cycles} flapping cycles: {} segments; descriptors {} → {}, RSS {} → {} KiB; steady camera {} frames, none lost; {sessions} connections",
        flappy_segs.len(),
        warm.0,
        end.0,
        warm.1,
        end.1,
        r[0].recorded
    );
}
