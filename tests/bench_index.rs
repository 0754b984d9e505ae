//! Benchmark (ignored; `scripts/bench-index.sh`): the index at a month's size. Eight
//! cameras record a minute each; their real segments are then repeated back to
//! back over the 30 days before (hard links to the real files, rows copied from
//! the real ones) with 40 motion events a camera a day, and Hearth is started on
//! it. Prints how long the start takes, playback seek latency (a 10 s range at a
//! random moment of the month, its first 256 KiB, cold and warm) and the times of
//! the timeline's, the events' and the activity queries over a day.

mod common;

use common::http::Client;
use common::*;
use rusqlite::Connection;
use std::time::Instant;

const CAMERAS: usize = 8;
const DAYS: i64 = 30;
const EVENTS_PER_DAY: i64 = 40;
const DAY_US: i64 = 86_400_000_000;

/// A small repeatable generator (no test depends on its values).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        i64::try_from((self.0 >> 16) % u64::try_from(n.max(1)).expect("n")).expect("fits")
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn spread(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    // The nearest rank below, for a percentile.
    let p = |pct: usize| v[(v.len() - 1) * pct / 100];
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        p(50),
        p(95),
        p(100)
    )
}

/// Fills the index with `DAYS` of each camera's first complete segment, back to
/// back before it; returns the month's first moment and the rows written.
fn generate(data: &std::path::Path) -> (i64, usize) {
    let mut c = Connection::open(data.join("hearth.db")).expect("index");
    let cols: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('segments')")
        .expect("columns")
        .query_map([], |r| r.get(0))
        .expect("columns")
        .collect::<Result<_, _>>()
        .expect("columns");
    let rest: Vec<&str> = cols
        .iter()
        .map(String::as_str)
        .filter(|n| !["id", "start_us", "path"].contains(n))
        .collect();
    let copy = format!(
        "INSERT INTO segments (start_us, path, {r}) SELECT ?1, ?2, {r} FROM segments WHERE id = ?3",
        r = rest.join(", ")
    );
    let templates: Vec<(i64, i64, i64, String)> = c
        .prepare(
            "SELECT min(s.id), s.start_us, s.duration_90k, s.path FROM segments s
             JOIN streams st ON st.id = s.stream_id
             WHERE s.state = 1 AND st.kind = 'main' GROUP BY s.stream_id",
        )
        .expect("templates")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("templates")
        .collect::<Result<_, _>>()
        .expect("templates");
    assert_eq!(templates.len(), CAMERAS, "a complete segment per camera");
    let first = templates.iter().map(|t| t.1).min().expect("a start") - DAYS * DAY_US;
    let tx = c.transaction().expect("transaction");
    let mut rows = 0;
    {
        let mut ins = tx.prepare(&copy).expect("insert");
        for (id, start, dur90k, path) in &templates {
            let step = dur90k * 1_000_000 / 90_000;
            let dir = format!("recordings/generated/{id}");
            std::fs::create_dir_all(data.join(&dir)).expect("mkdir");
            let mut t = start - DAYS * DAY_US;
            let mut n = 0;
            while t + step <= *start {
                let p = format!("{dir}/{n}.mp4");
                std::fs::hard_link(data.join(path), data.join(&p)).expect("link");
                ins.execute(rusqlite::params![t, p, id]).expect("row");
                t += step;
                n += 1;
            }
            rows += n;
        }
    }
    tx.commit().expect("commit");
    (first, rows)
}

#[test]
#[ignore = "benchmark: scripts/bench-index.sh"]
fn a_month_of_index_for_eight_cameras() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let names: Vec<String> = (1..=CAMERAS).map(|i| format!("cam{i}")).collect();
    let list = recording_only(&names, port);
    let mut nvr = Nvr::new(
        &format!("min_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""),
        &list,
    );
    nvr.add_user("ann", "admin", "", "ann-password-1");
    nvr.start();
    assert!(
        wait_until(std::time::Duration::from_secs(150), || {
            let segs = nvr.segments();
            names.iter().all(|n| {
                segs.iter().any(|s| {
                    &s.camera == n
                        && s.stream == "main"
                        && s.state == hearth::store::SegmentState::Complete
                })
            })
        }),
        "a complete minute per camera: {}",
        nvr.log_text()
    );
    nvr.stop();

    let t = Instant::now();
    let (first, rows) = generate(&nvr.data());
    let gen_s = t.elapsed().as_secs_f64();
    let store = hearth::store::Store::open(&nvr.data().join("hearth.db")).expect("index");
    let mut rng = Lcg(0x2545_f491);
    let mut events = 0;
    for name in &names {
        for day in 0..DAYS {
            for _ in 0..EVENTS_PER_DAY {
                let start = first + day * DAY_US + rng.below(DAY_US - 60_000_000);
                let secs = 5 + rng.below(40);
                let row = hearth::store::EventRow {
                    id: 0,
                    camera: name.clone(),
                    start_us: start,
                    end_us: start + secs * 1_000_000,
                    peak: 0.3,
                    peak_us: start + 2_000_000,
                    bbox: Some("0.100,0.200,0.300,0.600".into()),
                    zones: vec!["driveway".into()],
                };
                store.insert_event(&row, None, None).expect("event");
                let levels: Vec<(i64, f32)> =
                    (0..secs).map(|s| (start / 1_000_000 + s, 0.2)).collect();
                store.add_activity(name, &levels).expect("activity");
                events += 1;
            }
        }
    }
    drop(store);
    let db_mib = std::fs::metadata(nvr.data().join("hearth.db"))
        .map(|m| m.len() as f64 / 1048576.0)
        .unwrap_or(0.0);

    let t = Instant::now();
    let url = nvr.restart_web();
    let start_ms = ms(t);
    let mut c = Client::new(&url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);

    let end = first + DAYS * DAY_US;
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..60 {
        let cam = &names[usize::try_from(rng.below(CAMERAS as i64)).expect("index")];
        let at = first + rng.below(end - first - 20_000_000);
        let q = format!(
            "/api/cameras/{cam}/view.mp4?from={}&to={}",
            query_time(at),
            query_time(at + 10_000_000)
        );
        for out in [&mut cold, &mut warm] {
            let t = Instant::now();
            let r = c.get_with(&q, &[("range", "bytes=0-262143")]);
            out.push(ms(t));
            assert_eq!(r.status, 206, "{q}: {}", r.text());
        }
    }
    let query = |c: &mut Client, rng: &mut Lcg, path: &str| {
        let mut v = Vec::new();
        for _ in 0..30 {
            let cam = &names[usize::try_from(rng.below(CAMERAS as i64)).expect("index")];
            let day = first + rng.below(DAYS - 1) * DAY_US;
            let q = path
                .replace("{cam}", cam)
                .replace("{from}", &query_time(day))
                .replace("{to}", &query_time(day + DAY_US));
            let t = Instant::now();
            let r = c.get(&q);
            v.push(ms(t));
            assert_eq!(r.status, 200, "{q}: {}", r.text());
        }
        spread(&mut v)
    };
    let timeline = query(
        &mut c,
        &mut rng,
        "/api/cameras/{cam}/recordings?from={from}&to={to}",
    );
    let cam_events = query(
        &mut c,
        &mut rng,
        "/api/cameras/{cam}/events?from={from}&to={to}",
    );
    let activity = query(
        &mut c,
        &mut rng,
        "/api/cameras/{cam}/activity?from={from}&to={to}",
    );
    let all_events = query(&mut c, &mut rng, "/api/events?from={from}&to={to}");
    nvr.stop();

    println!(
        "index: {CAMERAS} cameras x {DAYS} days: {rows} segments of 60 s, {events} events \
         (generated in {gen_s:.0} s), hearth.db {db_mib:.0} MiB"
    );
    println!("  start to serving the web: {start_ms:.0} ms");
    println!(
        "  seek, 10 s at a random moment, first 256 KiB, cold: {}",
        spread(&mut cold)
    );
    println!(
        "  seek, the same again (warm):                       {}",
        spread(&mut warm)
    );
    println!("  timeline, a camera's day of recordings:  {timeline}");
    println!("  events, a camera's day:                   {cam_events}");
    println!("  activity, a camera's day (per second):    {activity}");
    println!("  events page, all cameras, a day:          {all_events}");
}
