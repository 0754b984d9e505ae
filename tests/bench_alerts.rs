//! The alerts benchmark (ignored by `cargo test`; `scripts/bench-alerts.sh` runs
//! it). Prints the time from a motion start in the picture to the MQTT motion ON,
//! the webhook and the ntfy push (medians over 20 events of Hearth's simulated
//! camera, whose sub stream moves for the last 8 s of each 20 s loop), and the CPU
//! that MQTT costs Hearth with 16 cameras (runs with and without a broker,
//! alternated). Figures only: nothing here is asserted about speed.

mod common;

use common::http_receiver::Receiver;
use common::mqtt::Broker;
use common::*;
use std::time::Duration;

const EVENTS: usize = 20;

/// Seconds after a stream's first frame at which the simulated picture starts moving.
fn motion_starts() -> impl Iterator<Item = f64> {
    (0..).map(|k| 12.0 + 20.0 * f64::from(k))
}

/// Each arrival's delay after the latest motion start before it, in ms.
fn delays(arrivals: &[f64]) -> Vec<f64> {
    arrivals
        .iter()
        .filter_map(|&at| {
            let start = motion_starts().take_while(|&s| s <= at).last()?;
            Some((at - start) * 1000.0)
        })
        .collect()
}

fn summary(name: &str, mut ms: Vec<f64>) {
    if ms.is_empty() {
        println!("{name}: nothing arrived");
        return;
    }
    let n = ms.len();
    let med = median(&mut ms);
    println!(
        "{name}: median {med:.0} ms, min {:.0} ms, max {:.0} ms over {n} events",
        ms[0],
        ms[n - 1]
    );
}

#[test]
#[ignore = "benchmark: scripts/bench-alerts.sh"]
fn motion_to_mqtt_webhook_and_push() {
    let broker = Broker::start();
    let sub = broker.subscribe();
    let receiver = Receiver::start(200);
    let port = free_port();
    let _cam = fake_camera(port, None);
    let extra = format!(
        "sub_url = \"rtsp://127.0.0.1:{port}/sub\"\nrecord_sub = true\n\
         [cameras.alerts]\ncooldown = \"1s\"\n"
    );
    let mut nvr = Nvr::new(
        &format!(
            "min_free = \"1MB\"\n{}\
             [[webhooks]]\nurl = \"{}\"\nsecret = \"bench-secret-0001\"\n\
             [[push]]\nservice = \"ntfy\"\nurl = \"{}\"\n",
            broker.hearth_section(),
            receiver.url("/hook"),
            receiver.url("/ntfy/hearth")
        ),
        &[Cam {
            name: "porch",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: &extra,
        }],
    );
    nvr.start();
    let ons = || -> Vec<f64> {
        sub.on("hearth/porch/motion")
            .iter()
            .filter(|s| s.payload == "ON")
            .map(|s| s.at)
            .collect()
    };
    let limit = Duration::from_secs(20 * (EVENTS as u64 + 3));
    assert!(
        wait_until(limit, || ons().len() >= EVENTS
            && receiver
                .seen()
                .iter()
                .filter(|r| r.path.starts_with("/ntfy"))
                .count()
                >= EVENTS),
        "{} motion ONs: {}",
        ons().len(),
        nvr.log_text()
    );
    let t0 = nvr.first_frame_us("sub") as f64 / 1e6;
    let since =
        |v: Vec<f64>| -> Vec<f64> { v.into_iter().map(|at| at - t0).take(EVENTS).collect() };
    let arrived = |prefix: &str| -> Vec<f64> {
        since(
            receiver
                .seen()
                .iter()
                // Webhooks say which phase; a push comes only at an event's start.
                .filter(|r| {
                    r.path.starts_with(prefix)
                        && (prefix == "/ntfy" || r.json()["event_type"] == "motion_start")
                })
                .map(|r| r.at)
                .collect(),
        )
    };
    println!("Motion start in the picture (simulated camera, sub stream 640x360 10 fps) to:");
    summary("  MQTT motion ON", delays(&since(ons())));
    summary("  webhook (event start)", delays(&arrived("/hook")));
    summary("  ntfy push", delays(&arrived("/ntfy")));
}

#[test]
#[ignore = "benchmark: scripts/bench-alerts.sh"]
fn mqtt_cpu_with_16_cameras() {
    const CAMERAS: usize = 16;
    const SECONDS: u64 = 40;
    let port = free_port();
    let _cam = fake_camera(port, None);
    let cams: Vec<(String, String)> = (1..=CAMERAS)
        .map(|i| {
            (
                format!("cam{i}"),
                format!("sub_url = \"rtsp://127.0.0.1:{port}/cam{i}/sub\"\n"),
            )
        })
        .collect();
    let run = |mqtt: Option<&Broker>| -> (f64, usize) {
        let storage = match mqtt {
            Some(b) => format!("min_free = \"1MB\"\n{}", b.hearth_section()),
            None => "min_free = \"1MB\"\n".to_owned(),
        };
        let sub = mqtt.map(Broker::subscribe);
        let list: Vec<Cam<'_>> = cams
            .iter()
            .map(|(name, extra)| Cam {
                name,
                url: format!("rtsp://127.0.0.1:{port}/{name}/main"),
                auth: None,
                extra,
            })
            .collect();
        let mut nvr = Nvr::new(&storage, &list);
        nvr.start();
        // Settled: every camera connected and past its first motion period's start.
        sleep_s(15);
        let pid = nvr.proc.as_ref().expect("running").pid();
        let cpu = cpu_over(pid, SECONDS);
        let messages = sub.map_or(0, |s| s.seen().len());
        nvr.stop();
        (cpu, messages)
    };
    let broker = Broker::start();
    let (mut without, mut with) = (Vec::new(), Vec::new());
    let mut messages = 0;
    for _ in 0..2 {
        without.push(run(None).0);
        let (cpu, n) = run(Some(&broker));
        with.push(cpu);
        messages = messages.max(n);
    }
    let (a, b) = (median(&mut without), median(&mut with));
    println!(
        "{CAMERAS} cameras (main recorded, sub detected), {SECONDS} s samples, two runs each:\n  \
         without MQTT {a:.1} % of a core, with MQTT {b:.1} % ({without:?} / {with:?});\n  \
         MQTT's cost {:.1} % of a core ({:+.1} % of Hearth's CPU), {messages} messages seen by a subscriber in a run",
        b - a,
        (b - a) / a * 100.0
    );
}
