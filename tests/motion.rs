//! Live motion detection end to end: the simulated camera's loop is 12 s still and
//! 8 s of shapes crossing; the events Hearth stores match those periods within 1 s.

mod common;

use common::*;
use hearth::store::Store;

#[test]
fn events_match_the_motion_periods_of_the_camera() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let extra = format!("sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord_sub = true");
    let mut nvr = Nvr::new(
        "min_free = \"1MB\"",
        &[Cam {
            name: "garden",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: &extra,
        }],
    );
    nvr.record_for(45);
    let store = Store::open(&nvr.data().join("hearth.db")).expect("index");
    // The sub stream's first segment starts on the loop's first frame.
    let t0 = store
        .all_segments()
        .expect("segments")
        .iter()
        .filter(|s| s.stream == "sub")
        .map(|s| s.start_us)
        .min()
        .expect("sub recorded");
    let events = store.events_between("garden", 0, i64::MAX).expect("events");
    let secs = |us: i64| (us - t0) as f64 / 1e6;
    let got: Vec<(f64, f64)> = events
        .iter()
        .map(|e| (secs(e.start_us), secs(e.end_us)))
        .collect();
    // Motion from 12 s to 20 s of every 20 s loop: two whole periods in 45 s.
    let expected = [(12.0, 20.0), (32.0, 40.0)];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((s, e), (es, ee)) in got.iter().zip(expected) {
        assert!((s - es).abs() <= 1.0 && (e - ee).abs() <= 1.0, "{got:?}");
    }
    for e in &events {
        assert!(e.peak > 0.01 && e.bbox.is_some(), "{e:?}");
    }
    // Activity per second: high during motion, zero in the still parts.
    let act = store
        .activity_between("garden", t0 / 1_000_000, t0 / 1_000_000 + 45)
        .expect("activity");
    let level = |s: i64| {
        act.iter()
            .find(|(sec, _)| *sec == t0 / 1_000_000 + s)
            .map_or(0.0, |a| a.1)
    };
    assert!(level(15) > 0.01 && level(35) > 0.01);
    assert_eq!(level(5), 0.0);
    assert_eq!(level(25), 0.0);
    assert!(nvr.log_text().contains("2 events"), "{}", nvr.log_text());
}
