//! Cameras that misbehave: one answers with garbage, one with a broken SDP, one
//! accepts and never answers. Each is logged by name with the reason, retried, and
//! none of them disturbs the good camera recording beside them.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn garbage(_: &str) -> Vec<u8> {
    (0..2000u32)
        .map(|i| ((i.wrapping_mul(2654435761) >> 13) & 0xff) as u8)
        .collect()
}

fn broken_sdp(cseq: &str) -> Vec<u8> {
    let sdp = "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 sprop-parameter-sets=!!!\r\n";
    format!(
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

#[test]
fn misbehaving_cameras_are_logged_and_do_not_disturb_others() {
    let good = free_port();
    let _cam = fake_camera(good, None);
    let (junk, _) = scripted_rtsp(garbage);
    let (bad_sdp, _) = scripted_rtsp(broken_sdp);
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let cams = [
        Cam {
            name: "good",
            url: format!("rtsp://127.0.0.1:{good}/main"),
            auth: None,
            extra: "",
        },
        Cam {
            name: "junk",
            url: format!("rtsp://127.0.0.1:{junk}/main"),
            auth: Some(("admin", "hunter22")),
            extra: "",
        },
        Cam {
            name: "badsdp",
            url: format!("rtsp://127.0.0.1:{bad_sdp}/main"),
            auth: None,
            extra: "",
        },
        Cam {
            name: "silent",
            url: format!("rtsp://127.0.0.1:{silent_port}/main"),
            auth: None,
            extra: "",
        },
        Cam {
            name: "refused",
            url: format!("rtsp://127.0.0.1:{}/main", free_port()),
            auth: None,
            extra: "",
        },
    ];
    let mut nvr = Nvr::new("segment_duration = \"4s\"\nmin_free = \"1MB\"", &cams);
    nvr.start();
    sleep_s(20);
    nvr.stop();
    drop(silent);
    let log = nvr.log_text();
    for l in log.lines().filter(|l| l.contains("stream failed")) {
        assert!(l.len() < 600, "an unreadably long log line: {l}");
    }
    for name in ["junk", "badsdp", "silent", "refused"] {
        assert!(
            log.lines()
                .any(|l| l.contains("stream failed") && l.contains(&format!("camera={name}"))),
            "no failure logged for {name}: {log}"
        );
    }
    assert!(
        log.lines()
            .filter(|l| l.contains("camera=junk") && l.contains("stream failed"))
            .count()
            >= 2,
        "the junk camera is retried"
    );
    assert!(!log.contains("hunter22"), "password in the log");
    let segs = nvr.segments();
    assert!(segs.iter().all(|s| s.camera == "good"));
    check_segments(&nvr.data(), &segs);
    let r = stop_reports(&log, "good", "main")[0];
    assert_eq!((r.failed, r.dropped), (0, 0));
    assert_eq!(r.received, r.recorded + r.before_key);
    assert!(
        r.recorded >= 15 * 15,
        "the good camera recorded only {} frames",
        r.recorded
    );
}

/// What a camera in front of Hearth's fake camera does to the conversation.
#[derive(Clone)]
enum Twist {
    /// Its DESCRIBE answer names this URL in `Content-Base`.
    ForeignBase(String),
    /// It stops answering once it was sent this request (`SETUP`, `PLAY`).
    SilentAfter(&'static str),
}

/// Hearth's fake camera behind a proxy with a twist; the request lines Hearth
/// sent through it are kept, one list per connection.
fn twisted_camera(upstream: u16, twist: Twist) -> (u16, Arc<Mutex<Vec<Vec<String>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let connections = Arc::new(Mutex::new(Vec::new()));
    let seen = connections.clone();
    // The fake camera answers with the URL it was asked for, which names this proxy.
    let ours = format!("rtsp://127.0.0.1:{port}");
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut client) = conn else { continue };
            let Ok(mut server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c2, mut s2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let mute = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (seen, heard, mute2) = (seen.clone(), twist.clone(), mute.clone());
            let me = {
                let mut s = seen.lock().expect("lock");
                s.push(Vec::new());
                s.len() - 1
            };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = c2.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]);
                    if let Some(line) = text.lines().next().filter(|l| l.contains("RTSP/1.0")) {
                        seen.lock().expect("lock")[me].push(line.to_owned());
                        if let Twist::SilentAfter(m) = &heard {
                            if line.starts_with(m) {
                                mute2.store(true, std::sync::atomic::Ordering::SeqCst);
                            }
                        }
                    }
                    if s2.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            let ours = ours.clone();
            let twist = twist.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = server.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if mute.load(std::sync::atomic::Ordering::SeqCst) {
                        continue;
                    }
                    let mut out = buf[..n].to_vec();
                    if let Twist::ForeignBase(theirs) = &twist {
                        if out.starts_with(b"RTSP/1.0") {
                            out = String::from_utf8_lossy(&out)
                                .replace(
                                    &format!("Content-Base: {ours}"),
                                    &format!("Content-Base: {theirs}"),
                                )
                                .into_bytes();
                        }
                    }
                    if client.write_all(&out).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, connections)
}

#[test]
fn cameras_that_stop_answering_are_timed_out_and_retried() {
    let up = free_port();
    let _cam = fake_camera(up, None);
    let (setup, setup_conns) = twisted_camera(up, Twist::SilentAfter("SETUP"));
    let (play, play_conns) = twisted_camera(up, Twist::SilentAfter("PLAY"));
    let cams = [
        Cam {
            name: "mute_setup",
            url: format!("rtsp://127.0.0.1:{setup}/main"),
            auth: None,
            extra: "",
        },
        Cam {
            name: "mute_play",
            url: format!("rtsp://127.0.0.1:{play}/main"),
            auth: None,
            extra: "",
        },
    ];
    let mut nvr = Nvr::new("segment_duration = \"4s\"\nmin_free = \"1MB\"", &cams);
    nvr.start();
    let log_has = |n: &Nvr, cam: &str, what: &str| {
        n.log_text()
            .lines()
            .any(|l| l.contains(&format!("camera={cam}")) && l.contains(what))
    };
    let retried = wait_until(std::time::Duration::from_secs(60), || {
        setup_conns.lock().expect("lock").len() >= 2 && play_conns.lock().expect("lock").len() >= 2
    });
    nvr.stop();
    assert!(
        retried,
        "a silent camera was not retried: {}",
        nvr.log_text()
    );
    assert!(
        log_has(&nvr, "mute_setup", "SETUP: no answer"),
        "{}",
        nvr.log_text()
    );
    assert!(
        log_has(&nvr, "mute_play", "PLAY: no answer"),
        "{}",
        nvr.log_text()
    );
}

#[test]
fn a_camera_cannot_point_hearth_at_another_host() {
    let up = free_port();
    let _cam = fake_camera(up, Some(("admin", "s3cret-cam")));
    // Where the camera would send Hearth: anything arriving there is noted.
    let elsewhere = TcpListener::bind("127.0.0.2:0").expect("bind");
    let foreign = format!("rtsp://{}", elsewhere.local_addr().expect("addr"));
    elsewhere.set_nonblocking(true).expect("nonblocking");
    let (port, requests) = twisted_camera(up, Twist::ForeignBase(foreign.clone()));
    let mut nvr = Nvr::one(
        "segment_duration = \"4s\"\nmin_free = \"1MB\"",
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        Some(("admin", "s3cret-cam")),
    );
    nvr.start();
    sleep_s(8);
    nvr.stop();
    let log = nvr.log_text();
    assert!(
        log.lines().any(|l| l.contains("camera=porch")
            && l.contains("points the session at another host")
            && l.contains(foreign.trim_start_matches("rtsp://"))),
        "{log}"
    );
    assert!(
        elsewhere.accept().is_err(),
        "Hearth connected to the camera's other host"
    );
    let sent: Vec<String> = requests.lock().expect("lock").concat();
    assert!(
        sent.iter().all(|l| !l.contains("127.0.0.2")),
        "requests named the other host: {sent:?}"
    );
    assert!(
        nvr.segments().is_empty(),
        "recorded from a camera that points elsewhere"
    );
    assert!(!log.contains("s3cret-cam"), "password in the log");
}

/// VLC's RTSP server (Debian's `vlc-bin`) ends its `a=fmtp` line with `;`, which
/// retina refuses, and sends no parameter sets in-band: Hearth reads them from the
/// raw SDP and records, over UDP (all VLC offers), on one connection. (The clip
/// has no B-frames, as IP cameras send; VLC ends its stream at each loop, so the
/// clip outlasts the test.)
#[test]
fn records_vlc_whose_sdp_the_rtsp_library_refuses() {
    use std::os::unix::fs::PermissionsExt;
    // VLC refuses to run as root: as root it runs as nobody, who must read the clip.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let clip = dir.path().join("clip.mp4");
    testsrc_clip(
        &clip,
        "640x360",
        15,
        60,
        &[
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "30",
            "-bf",
            "0",
        ],
    );
    std::fs::set_permissions(&clip, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let port = free_port();
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "cvlc",
        ]);
        c
    } else {
        Command::new("cvlc")
    };
    cmd.arg("-q")
        .arg(&clip)
        .arg("--loop")
        .arg("--sout")
        .arg(format!("#rtp{{sdp=rtsp://127.0.0.1:{port}/cam}}"))
        .env("HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _vlc = Proc::new(cmd.spawn().expect("cvlc (Debian's vlc-bin)"), "cvlc");
    assert!(
        wait_until(Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }),
        "VLC never listened"
    );
    let mut nvr = Nvr::new(
        "",
        &[Cam {
            name: "vlc",
            url: format!("rtsp://127.0.0.1:{port}/cam"),
            auth: None,
            extra: "transport = \"udp\"",
        }],
    );
    nvr.record_for(20);
    let log = nvr.log_text();
    assert!(
        log.contains("read them leniently (avc1.640016 640x360)"),
        "{log}"
    );
    assert_eq!(
        log.matches("rtsp: connected").count(),
        1,
        "reconnected: {log}"
    );
    let segs = nvr.segments();
    let frames = check_segments(&nvr.data(), &segs);
    // 15 fps for most of the 20 s (VLC takes a moment to start its stream).
    assert!(
        frames >= 15 * 10,
        "{frames} frames in {} segments: {log}",
        segs.len()
    );
    assert!(segs.iter().all(|s| (s.width, s.height) == (640, 360)));
}

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() == 0 }
}
