//! No egress: Hearth runs with every feature on (cameras, motion, the web
//! server, MQTT, webhooks, pushes with pictures) in a network namespace of its
//! own (`unshare -rmn`: only loopback), with a camera whose name resolves to a
//! public address and a webhook at an unreachable public address. Every
//! `connect()` Hearth makes is recorded by `strace -f`; only the configured,
//! allowed destinations appear, the public ones never, and each refusal is
//! logged once.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::process::Command;

const PUBLIC_CAMERA: &str = "203.0.113.7";
const PUBLIC_HOOK: &str = "198.51.100.9";

/// The (address, port) of each IPv4/IPv6 `connect()` in an strace file.
fn inet_connects(trace: &str) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for line in trace.lines().filter(|l| l.contains("connect(")) {
        let port = line
            .split("port=htons(")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|p| p.parse().ok());
        let addr = if line.contains("AF_INET6") {
            line.split("AF_INET6, \"")
                .nth(1)
                .and_then(|r| r.split('"').next())
        } else if line.contains("AF_INET") {
            line.split("inet_addr(\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
        } else {
            None
        };
        if let (Some(a), Some(p)) = (addr, port) {
            out.push((a.to_owned(), p));
        }
    }
    out
}

#[test]
fn only_the_allowed_destinations_are_ever_connected_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (cam, mqtt, http, web) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(
        d.join("hosts"),
        format!("127.0.0.1 localhost\n{PUBLIC_CAMERA} cam.public.test\n"),
    )
    .expect("hosts");
    std::fs::write(
        d.join("mosquitto.conf"),
        format!("listener {mqtt} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"),
    )
    .expect("mosquitto.conf");
    let secret = "no-egress-secret-01";
    std::fs::write(
        d.join("hearth.toml"),
        format!(
            "[storage]\ndata_dir = \"data\"\nmin_free = \"1MB\"\n\
             [server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n\
             [mqtt]\nbroker = \"mqtt://127.0.0.1:{mqtt}\"\n\
             [alerts]\nlink_base = \"http://127.0.0.1:{web}\"\n\
             [[webhooks]]\nurl = \"http://127.0.0.1:{http}/hook\"\nsecret = \"{secret}\"\n\
             [[webhooks]]\nurl = \"http://{PUBLIC_HOOK}/hook\"\nsecret = \"{secret}\"\n\
             [[push]]\nservice = \"ntfy\"\nurl = \"http://127.0.0.1:{http}/ntfy\"\n\
             [[cameras]]\nname = \"home\"\nurl = \"rtsp://127.0.0.1:{cam}/main\"\n\
             sub_url = \"rtsp://127.0.0.1:{cam}/sub\"\n\
             [cameras.alerts]\nsnapshots = true\ncooldown = \"1s\"\nmqtt_commands = [\"recording\"]\n\
             [[cameras]]\nname = \"elsewhere\"\nurl = \"rtsp://cam.public.test:554/main\"\n"
        ),
    )
    .expect("config");
    // The receivers' logs say when the webhook and the push have come.
    let script = format!(
        r#"set -u
ip link set lo up || exit 97
mount --bind "$D/hosts" /etc/hosts || exit 99
"$HEARTH" fake-camera --listen 127.0.0.1:{cam} >"$D/cam.log" 2>&1 &
others=$!
mosquitto -c "$D/mosquitto.conf" >"$D/mosquitto.log" 2>&1 &
others="$others $!"
/usr/bin/python3 -u -m http.server --bind 127.0.0.1 {http} >"$D/http.log" 2>&1 &
others="$others $!"
sleep 1
"$HEARTH" init --config "$D/hearth.toml" >/dev/null || {{ kill $others; exit 98; }}
strace -f -qq -e trace=connect -o "$D/trace" \
  sh -c 'echo $$ >"$D/hearth.pid"; exec "$HEARTH" run --config "$D/hearth.toml"' \
  >"$D/hearth.out" 2>"$D/hearth.log" &
tracer=$!
for i in $(seq 120); do
  grep -q '"POST /hook' "$D/http.log" && grep -q '"PUT /ntfy' "$D/http.log" && break
  sleep 1
done
sleep 2
kill -TERM "$(cat "$D/hearth.pid")"
wait $tracer; echo "run-exit=$?"
kill $others
wait
exit 0
"#
    );
    // Bounded: a namespace that hangs fails the test instead of stalling the suite.
    let out = Command::new("timeout")
        .args(["-s", "KILL", "300", "unshare", "-rmn", "sh", "-c", &script])
        .env("D", d)
        .env("HEARTH", HEARTH)
        .env("RUST_LOG", "info")
        .output()
        .expect("unshare");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "namespace run failed ({:?}): {said}",
        out.status.code()
    );
    let log = std::fs::read_to_string(d.join("hearth.log")).unwrap_or_default();
    let http_log = std::fs::read_to_string(d.join("http.log")).unwrap_or_default();
    assert!(said.contains("run-exit=0"), "{said}\n{log}");
    assert!(
        http_log.contains("\"POST /hook") && http_log.contains("\"PUT /ntfy"),
        "the webhook and the push never came: {http_log}\n{log}"
    );

    let trace = std::fs::read_to_string(d.join("trace")).expect("strace output");
    let connects = inet_connects(&trace);
    let allowed: BTreeSet<u16> = [cam, mqtt, http].into();
    let seen: BTreeSet<u16> = connects.iter().map(|(_, p)| *p).collect();
    for (addr, port) in &connects {
        assert!(
            (addr == "127.0.0.1" || addr == "::1") && allowed.contains(port),
            "a connection to {addr}:{port}, which the config does not allow:\n{trace}"
        );
    }
    assert!(
        allowed.is_subset(&seen),
        "not every destination was used: {seen:?}\n{trace}"
    );
    for public in [PUBLIC_CAMERA, PUBLIC_HOOK] {
        assert!(
            !trace.contains(public),
            "{public} was connected to:\n{trace}"
        );
        let refusals = log
            .lines()
            .filter(|l| l.contains("outbound connection refused") && l.contains(public))
            .count();
        assert_eq!(refusals, 1, "refusal of {public} logged once:\n{log}");
    }
    assert!(
        log.contains("cam.public.test is at 203.0.113.7, outside the local network"),
        "{log}"
    );
    println!(
        "{} connect() calls to the network, to ports {seen:?} (camera {cam}, broker {mqtt}, receiver {http})",
        connects.len()
    );
}
