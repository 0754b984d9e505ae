//! Benchmark (ignored; `scripts/bench-encryption.sh`): what encryption at rest
//! costs. Recording CPU per stream with 8 cameras, sealed against plain in the
//! same run (alternated, two runs each), and playback seek latency on sealed
//! footage against plain: a 10 s range at a random moment, its first 256 KiB.

mod common;

use common::http::Client;
use common::*;
use std::time::Instant;

const CAMERAS: usize = 8;
const SECONDS: u64 = 40;

struct Run {
    cpu: f64,
    /// The recorded stream's bit rate, kbit/s.
    kbps: f64,
    /// Seek latencies, ms: the first request into each file, then again (warm).
    cold: Vec<f64>,
    warm: Vec<f64>,
}

fn run(port: u16, sealed: bool) -> Run {
    let web = free_port();
    let key = if sealed {
        "encryption_key_file = \"master.key\"\n"
    } else {
        ""
    };
    let names: Vec<String> = (1..=CAMERAS).map(|i| format!("cam{i}")).collect();
    let list = recording_only(&names, port);
    let mut nvr = Nvr::new(
        &format!(
            "{key}min_free = \"1MB\"\nsegment_duration = \"10s\"\n\
             [server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        &list,
    );
    if sealed {
        let out = std::process::Command::new(HEARTH)
            .args(["key", "generate", "-o"])
            .arg(nvr.dir.path().join("master.key"))
            .output()
            .expect("key");
        assert!(out.status.success());
    }
    nvr.add_user("ann", "admin", "", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    sleep_s(10);
    let pid = nvr.proc.as_ref().expect("running").pid();
    let cpu = cpu_over(pid, SECONDS);
    let segs: Vec<_> = camera_segments(&nvr, "cam1")
        .into_iter()
        .filter(|s| s.state == hearth::store::SegmentState::Complete)
        .collect();
    let (from, to) = (segs[0].start_us, segs[segs.len() - 1].end_us() - 10_000_000);
    let bytes: u64 = segs.iter().map(|s| s.progress.bytes).sum();
    let secs: f64 = segs
        .iter()
        .map(|s| s.progress.duration_90k as f64 / 90_000.0)
        .sum();
    let kbps = bytes as f64 * 8.0 / secs / 1000.0;
    let mut c = Client::new(&url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);
    let mut seed = 0x2545_f491_u64;
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = from
            + i64::try_from((seed >> 16) % u64::try_from(to - from).expect("span")).expect("t");
        let q = format!(
            "/api/cameras/cam1/view.mp4?from={}&to={}",
            query_time(at),
            query_time(at + 10_000_000)
        );
        for out in [&mut cold, &mut warm] {
            let t = Instant::now();
            let r = c.get_with(&q, &[("range", "bytes=0-262143")]);
            out.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, 206, "{}", r.text());
        }
    }
    nvr.stop();
    Run {
        cpu,
        kbps,
        cold,
        warm,
    }
}

#[test]
#[ignore = "benchmark: scripts/bench-encryption.sh"]
fn recording_cpu_and_seek_latency_sealed_against_plain() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (mut plain, mut sealed) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        plain.push(run(port, false));
        sealed.push(run(port, true));
    }
    let per_stream = |runs: &[Run]| {
        let mut v: Vec<f64> = runs.iter().map(|r| r.cpu / CAMERAS as f64).collect();
        median(&mut v)
    };
    let seeks = |runs: &[Run], warm: bool| {
        let mut v: Vec<f64> = runs
            .iter()
            .flat_map(|r| if warm { r.warm.clone() } else { r.cold.clone() })
            .collect();
        v.sort_by(f64::total_cmp);
        (median(&mut v), v[v.len() * 9 / 10])
    };
    let (p, s) = (per_stream(&plain), per_stream(&sealed));
    let each = |runs: &[Run]| -> Vec<String> {
        runs.iter()
            .map(|r| format!("{:.2}", r.cpu / CAMERAS as f64))
            .collect()
    };
    let (plain_runs, sealed_runs) = (each(&plain), each(&sealed));
    println!(
        "{CAMERAS} cameras, 1280x720 main stream at {:.0} kbit/s recorded, {SECONDS} s samples, \
         two runs each (alternated):\n  \
         recording CPU per stream: plain {p:.2} % of a core, sealed {s:.2} % ({:+.1} %; {plain_runs:?} / {sealed_runs:?} per stream)",
        plain[0].kbps,
        (s - p) / p * 100.0
    );
    for (name, warm) in [("first request", false), ("same range again", true)] {
        let ((pm, p90), (sm, s90)) = (seeks(&plain, warm), seeks(&sealed, warm));
        println!(
            "  seek (10 s range at a random moment, first 256 KiB), {name}: \
             plain median {pm:.1} ms (p90 {p90:.1}), sealed median {sm:.1} ms (p90 {s90:.1})"
        );
    }
}
