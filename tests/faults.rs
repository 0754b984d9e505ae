//! Fault runs: `kill -9` at pseudo-random moments, cycle after cycle. After each
//! crash the repair start-up does (`verify --repair`) leaves an index that
//! `hearth verify` passes, every file decodes as indexed, and what was lost is at
//! most the flush interval. `HEARTH_FAULT_CYCLES` sets the count (10 in the
//! suite; `HEARTH_FAULT_CYCLES=50 cargo test --release --test faults` for more).

mod common;

use common::*;

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
