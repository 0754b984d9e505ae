//! The end-to-end test harness: starts real processes (Hearth itself, its simulated
//! camera, GStreamer's RTSP server), writes configs, reads the real SQLite index and
//! checks real files with ffprobe. Every process binds 127.0.0.1 and is stopped by PID.

#![allow(dead_code)]

pub mod curl;
pub mod http;
pub mod http_receiver;
pub mod live_ws;
pub mod mqtt;
pub mod site;
pub mod webdriver;

use hearth::store::{SegmentRow, Store};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A child process, killed when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
    /// The child is `strace PROG`: signals go to PROG (strace blocks fatal
    /// signals while it traces).
    pub tracer: bool,
}

impl Proc {
    pub fn new(child: Child, name: &str) -> Proc {
        Proc {
            child,
            name: name.to_owned(),
            tracer: false,
        }
    }

    /// The process to signal: the child, or the program a tracer runs.
    pub fn pid(&self) -> i32 {
        let own = self.child.id() as i32;
        if !self.tracer {
            return own;
        }
        std::fs::read_to_string(format!("/proc/{own}/task/{own}/children"))
            .ok()
            .and_then(|t| t.split_whitespace().next()?.parse().ok())
            .unwrap_or(own)
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// SIGTERM and wait for the exit.
    pub fn term(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(60))
    }

    pub fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            if Instant::now() > end {
                self.kill9();
                panic!("{} did not exit within {limit:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill9();
        }
    }
}

/// Hearth's simulated camera with its own log (each DESCRIBE, PLAY and
/// TEARDOWN it is sent, each session closed) written to `log`; `args` as
/// `--drop-after 0.5`.
pub fn fake_camera_logged(port: u16, log: &Path, args: &[&str]) -> Proc {
    let mut cmd = Command::new(HEARTH);
    cmd.args(["fake-camera", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stderr(std::fs::File::create(log).expect("camera log"));
    spawn_ready("hearth fake-camera", &mut cmd, "serving")
}

/// Spawns a process and waits until its stdout prints a line containing `ready`
/// (its stderr, unless the command sends it elsewhere, is the test's).
fn spawn_ready(name: &str, cmd: &mut Command, ready: &str) -> Proc {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let ready = ready.to_owned();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if !sent && line.contains(&ready) {
                let _ = tx.send(());
                sent = true;
            }
        }
    });
    let mut p = Proc::new(child, name);
    if rx.recv_timeout(Duration::from_secs(120)).is_err() {
        p.kill9();
        panic!("{name} never became ready");
    }
    p
}

/// Hearth's own simulated camera.
pub fn fake_camera(port: u16, auth: Option<(&str, &str)>) -> Proc {
    fake_camera_with(port, auth, &[])
}

/// Hearth's own simulated camera with extra arguments (e.g. `--file clip.mp4`).
pub fn fake_camera_with(port: u16, auth: Option<(&str, &str)>, args: &[&str]) -> Proc {
    let mut cmd = Command::new(HEARTH);
    cmd.args(["fake-camera", "--listen", &format!("127.0.0.1:{port}")]);
    cmd.args(args);
    if let Some((u, p)) = auth {
        cmd.args(["--user", u, "--password", p]);
    }
    spawn_ready("hearth fake-camera", &mut cmd, "serving")
}

/// GStreamer's RTSP server (tests/support/gst_camera.py) on /main; `args` adds
/// options such as `--codec h265` or `--audio`.
pub fn gst_camera(port: u16, auth: Option<(&str, &str)>, args: &[&str]) -> Proc {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gst_camera.py");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(script)
        .args(["--port", &port.to_string()])
        .args(args);
    if let Some((u, p)) = auth {
        cmd.args(["--user", u, "--password", p]);
    }
    spawn_ready("gst-rtsp-server camera", &mut cmd, "ready")
}

/// A camera entry for a test config.
pub struct Cam<'a> {
    pub name: &'a str,
    pub url: String,
    pub auth: Option<(&'a str, &'a str)>,
    pub extra: &'a str,
}

/// One camera per name, each the simulated camera's `/NAME/main` on `port`,
/// recorded without motion detection: recording alone.
pub fn recording_only(names: &[String], port: u16) -> Vec<Cam<'_>> {
    names
        .iter()
        .map(|name| Cam {
            name,
            url: format!("rtsp://127.0.0.1:{port}/{name}/main"),
            auth: None,
            extra: "[cameras.motion]\nenabled = false",
        })
        .collect()
}

pub struct Nvr {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub log: PathBuf,
    pub proc: Option<Proc>,
    /// Environment for `hearth run` beyond the test's own.
    pub env: Vec<(&'static str, &'static str)>,
}

impl Nvr {
    /// Writes a config (`storage_extra` goes into `[storage]`) and makes its data
    /// directory (`hearth init`), without starting.
    pub fn new(storage_extra: &str, cams: &[Cam<'_>]) -> Nvr {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut text = format!("[storage]\ndata_dir = \"data\"\n{storage_extra}\n");
        for c in cams {
            text.push_str(&format!(
                "\n[[cameras]]\nname = \"{}\"\nurl = \"{}\"\n{}\n",
                c.name, c.url, c.extra
            ));
            if let Some((u, p)) = c.auth {
                text.push_str(&format!("username = \"{u}\"\npassword = \"{p}\"\n"));
            }
        }
        let config = dir.path().join("hearth.toml");
        std::fs::write(&config, text).expect("write config");
        let log = dir.path().join("hearth.log");
        let nvr = Nvr {
            dir,
            config,
            log,
            proc: None,
            env: Vec::new(),
        };
        let (ok, out) = nvr.cli(&["init"]);
        assert!(ok, "hearth init: {out}");
        nvr
    }

    /// One camera named `name` at `url`, with `storage_extra` in `[storage]`.
    pub fn one(storage_extra: &str, name: &str, url: String, auth: Option<(&str, &str)>) -> Nvr {
        Nvr::new(
            storage_extra,
            &[Cam {
                name,
                url,
                auth,
                extra: "",
            }],
        )
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Adds a user through the CLI, the password on stdin.
    pub fn add_user(&self, name: &str, role: &str, cameras: &str, password: &str) {
        use std::io::Write;
        let mut cmd = Command::new(HEARTH);
        cmd.args(["user", "add", name, "--role", role]);
        if !cameras.is_empty() {
            cmd.args(["--cameras", cameras]);
        }
        let mut child = cmd
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("hearth user add");
        if let Some(mut i) = child.stdin.take() {
            let _ = writeln!(i, "{password}");
        }
        assert!(
            child.wait().expect("wait").success(),
            "cannot add user {name}"
        );
    }

    /// The web address Hearth logged when it started serving.
    pub fn web_url(&self) -> String {
        self.web_url_after(0)
    }

    /// Starts `hearth run` again and waits for this run's web server (the log
    /// holds earlier runs' lines too).
    pub fn restart_web(&mut self) -> String {
        let seen = self.log_text().len();
        self.start();
        self.web_url_after(seen)
    }

    fn web_url_after(&self, offset: usize) -> String {
        let mut url = String::new();
        assert!(
            wait_until(Duration::from_secs(60), || {
                let log = self.log_text();
                let log = log.get(offset..).unwrap_or_default();
                match log.lines().find_map(|l| l.split("web: serving ").nth(1)) {
                    Some(u) => {
                        url = u.trim().to_owned();
                        true
                    }
                    None => false,
                }
            }),
            "the web server never started: {}",
            self.log_text()
        );
        url
    }

    /// Starts `hearth run`; its log is appended to `self.log`.
    pub fn start(&mut self) {
        self.spawn(Command::new(HEARTH), "hearth run", false);
    }

    /// Starts `hearth run` under `strace -f -y` of `syscalls` (Debian's strace);
    /// returns the trace file, which names every fd's path.
    pub fn start_traced(&mut self, syscalls: &str) -> PathBuf {
        let trace = self.dir.path().join("strace.txt");
        let mut cmd = Command::new("strace");
        cmd.args(["-f", "-y", "-qq", "-e", &format!("trace={syscalls}"), "-o"])
            .arg(&trace)
            .arg(HEARTH);
        self.spawn(cmd, "strace hearth run", true);
        trace
    }

    fn spawn(&mut self, mut cmd: Command, name: &str, tracer: bool) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let child = cmd
            .args(["run", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let mut p = Proc::new(child, name);
        p.tracer = tracer;
        self.proc = Some(p);
    }

    /// Starts, records for `secs` seconds, stops; returns the wall time (µs since
    /// 1970) just before the stop signal.
    pub fn record_for(&mut self, secs: u64) -> i64 {
        self.start();
        sleep_s(secs);
        let stop_us = now_us();
        self.stop();
        stop_us
    }

    /// SIGTERM; asserts a clean exit.
    pub fn stop(&mut self) {
        let mut p = self.proc.take().expect("not running");
        let status = p.term();
        assert!(
            status.success(),
            "hearth exited with {status}: {}",
            self.log_text()
        );
    }

    pub fn kill9(&mut self) {
        self.proc.take().expect("not running").kill9();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn segments(&self) -> Vec<SegmentRow> {
        Store::open(&self.data().join("hearth.db"))
            .expect("open index")
            .all_segments()
            .expect("segments")
    }

    /// When `stream`'s first recorded segment starts (UTC µs): for the simulated
    /// camera, its loop's first frame, from which its motion periods count.
    pub fn first_frame_us(&self, stream: &str) -> i64 {
        self.segments()
            .iter()
            .filter(|s| s.stream == stream)
            .map(|s| s.start_us)
            .min()
            .unwrap_or_else(|| panic!("nothing recorded of the {stream} stream"))
    }

    /// Runs a hearth subcommand on this config; returns (success, stdout + stderr).
    /// `hearth status --json`: the running Hearth's own account of itself, or
    /// null while none answers.
    pub fn status_json(&self) -> serde_json::Value {
        let (ok, out) = self.cli(&["status", "--json"]);
        if ok {
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("status JSON ({e}): {out}"))
        } else {
            serde_json::Value::Null
        }
    }

    pub fn cli(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(HEARTH)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .output()
            .expect("run hearth");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

impl Nvr {
    /// `hearth export` of `[from_us, to_us)` of a camera's main stream into the
    /// test directory; the file must have been written.
    pub fn export(&self, camera: &str, from_us: i64, to_us: i64) -> PathBuf {
        let time = rfc3339;
        let out = self.dir.path().join(format!("export-{camera}.mp4"));
        let (ok, text) = self.cli(&[
            "export",
            "--camera",
            camera,
            "--from",
            &time(from_us),
            "--to",
            &time(to_us),
            "-o",
            out.to_str().expect("path"),
        ]);
        assert!(ok, "{text}");
        out
    }
}

/// A moment (UTC µs) in RFC 3339, to the microsecond.
/// The trace `Nvr::start_traced` has written so far, one whole call per line.
pub fn read_trace(path: &Path) -> String {
    whole_calls(&std::fs::read_to_string(path).unwrap_or_default())
}

/// An `strace -f` text with each call whole on one line: a call another thread
/// interrupted (`PID  name(args <unfinished ...>`, later `PID  <... name resumed>)
/// = 0`) is joined into `PID  name(args) = 0` where it resumed.
pub fn whole_calls(trace: &str) -> String {
    let mut pending = std::collections::HashMap::new();
    let mut out = String::with_capacity(trace.len());
    for line in trace.lines() {
        let (pid, call) = line.split_once(' ').unwrap_or(("", line));
        let call = call.trim_start();
        if let Some(head) = call.strip_suffix("<unfinished ...>") {
            pending.insert(pid.to_owned(), head.trim_end().to_owned());
            continue;
        }
        let joined = call
            .strip_prefix("<... ")
            .and_then(|rest| rest.split_once(" resumed>"))
            .and_then(|(_, tail)| Some(pending.remove(pid)? + tail));
        out.push_str(pid);
        out.push_str("   ");
        out.push_str(joined.as_deref().unwrap_or(call));
        out.push('\n');
    }
    out
}

pub fn rfc3339(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .expect("time")
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// As `rfc3339`, ready for a URL's query.
pub fn query_time(us: i64) -> String {
    rfc3339(us).replace('+', "%2B")
}

/// The counts a stream reported when Hearth stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    pub received: u64,
    pub recorded: u64,
    pub before_key: u64,
    pub failed: u64,
    pub dropped: u64,
    /// Frames let go by motion-only recording (no motion near them).
    pub idle: u64,
}

fn number_after(line: &str, label: &str) -> u64 {
    let at = line
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {line}"))
        + label.len();
    line[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {line}"))
}

/// Every "stopped:" line of the log for a camera stream, in order.
pub fn stop_reports(log: &str, camera: &str, stream: &str) -> Vec<StopReport> {
    log.lines()
        .filter(|l| {
            l.contains("stopped: frames received")
                && l.contains(&format!("camera={camera}"))
                && l.contains(&format!("stream=\"{stream}\""))
        })
        .map(|l| StopReport {
            received: number_after(l, "frames received"),
            recorded: number_after(l, "recorded"),
            before_key: number_after(l, "before first key frame"),
            failed: number_after(l, "failed"),
            dropped: number_after(l, "dropped"),
            idle: number_after(l, "idle"),
        })
        .collect()
}

/// A packet as ffprobe sees it.
#[derive(Debug, Clone, Copy)]
pub struct Packet {
    pub pts: f64,
    pub duration: f64,
    pub key: bool,
}

pub fn ffprobe_packets(path: &Path) -> Vec<Packet> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg("packet=pts_time,duration_time,flags")
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Packet {
                pts: f[0].parse().expect("pts"),
                duration: f[1].parse().unwrap_or(0.0),
                key: f.get(2).is_some_and(|s| s.contains('K')),
            }
        })
        .collect()
}

/// Decodes a file completely with ffmpeg; panics on any decoding error. Returns
/// the number of decoded frames.
pub fn assert_decodes(path: &Path) -> usize {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg cannot decode {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count()
}

/// Checks every segment against its file: ffprobe reads it, frame counts and
/// durations agree with the index, it starts on a key frame. Returns total frames.
pub fn check_segments(data: &Path, segs: &[SegmentRow]) -> u64 {
    let mut total = 0;
    for s in segs {
        let pk = ffprobe_packets(&data.join(&s.path));
        assert_eq!(
            pk.len() as u64,
            s.progress.frames,
            "{}: frame count",
            s.path
        );
        assert!(
            pk.first().is_some_and(|p| p.key),
            "{}: starts with a key frame",
            s.path
        );
        let last = pk.last().expect("frames");
        let dur = last.pts + last.duration - pk[0].pts;
        let indexed = s.progress.duration_90k as f64 / 90_000.0;
        assert!(
            (dur - indexed).abs() < 0.002,
            "{}: duration {dur} vs index {indexed}",
            s.path
        );
        total += s.progress.frames;
    }
    if let Some(s) = segs.first() {
        save_fuzz_seeds(data, s);
    }
    total
}

/// Keeps the start of a real recorded file (at most its first two fragments and
/// 32 KiB) and its sample entry as seeds for the fuzzers (`scripts/fuzz.sh`).
fn save_fuzz_seeds(data: &Path, s: &SegmentRow) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-seeds");
    let name = format!(
        "{}-{}x{}{}",
        s.codec,
        s.width,
        s.height,
        if s.audio.is_some() { "-audio" } else { "" }
    );
    let Ok(file) = std::fs::read(data.join(&s.path)) else {
        return;
    };
    let end = s
        .progress
        .fragments
        .get(2)
        .map_or(file.len() as u64, |f| f.offset)
        .min(32 << 10);
    let head = &file[..file.len().min(end as usize)];
    for (target, bytes) in [("mp4_file", head), ("parameter_sets", &s.sample_entry[..])] {
        let d = dir.join(target);
        let tmp = d.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d)
            .and_then(|_| std::fs::write(&tmp, bytes))
            .and_then(|_| std::fs::rename(&tmp, d.join(&name)));
    }
}

/// CPU time (user + system) of a process, in clock ticks (1/100 s on Linux).
pub fn ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command (which may hold spaces), from its closing paren.
    let rest = &stat[stat.rfind(')').expect("stat") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

/// The process's CPU (% of one core) over `secs` seconds.
pub fn cpu_over(pid: i32, secs: u64) -> f64 {
    let t0 = ticks(pid);
    sleep_s(secs);
    (ticks(pid) - t0) as f64 / secs as f64
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Polls `f` every 100 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn sleep_s(s: u64) {
    std::thread::sleep(Duration::from_secs(s));
}

/// An H.264 test clip from FFmpeg's `testsrc` (`size` like `640x360`), with the
/// encoder options `extra` (GOP, profile, B-frames).
pub fn testsrc_clip(path: &Path, size: &str, rate: u32, secs: u32, extra: &[&str]) {
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate={rate}"))
        .args(["-t", &secs.to_string(), "-c:v", "libx264"])
        .args(extra)
        .arg(path)
        .status()
        .expect("ffmpeg");
    assert!(made.success(), "ffmpeg could not make {}", path.display());
}

/// Requests a scripted RTSP server received, each as its text.
pub type Requests = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// An RTSP server on loopback that answers every request on every connection
/// with `answer(cseq)`, forever, and keeps the requests it got.
pub fn scripted_rtsp(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> (u16, Requests) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let answer = std::sync::Arc::new(answer);
    let requests = Requests::default();
    let seen = requests.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let (answer, seen) = (answer.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let cseq = req
                        .lines()
                        .find_map(|l| l.strip_prefix("CSeq:"))
                        .map(str::trim)
                        .unwrap_or("1")
                        .to_owned();
                    seen.lock().unwrap_or_else(|p| p.into_inner()).push(req);
                    if c.write_all(&answer(&cseq)).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, requests)
}

/// A camera's main-stream segments in the index.
pub fn camera_segments(nvr: &Nvr, camera: &str) -> Vec<SegmentRow> {
    nvr.segments()
        .into_iter()
        .filter(|s| s.camera == camera && s.stream == "main")
        .collect()
}

/// Frames the index holds for a camera's main stream.
pub fn indexed_frames(nvr: &Nvr, camera: &str) -> u64 {
    camera_segments(nvr, camera)
        .iter()
        .map(|s| s.progress.frames)
        .sum()
}

/// The camera recorded every frame it received in one unbroken run: one stop
/// report (at the end), nothing dropped, and segments end to end.
#[track_caller]
pub fn assert_unbroken(nvr: &Nvr, camera: &str) {
    let reports = stop_reports(&nvr.log_text(), camera, "main");
    assert_eq!(
        reports.len(),
        1,
        "{camera} stopped more than once: {reports:?}"
    );
    let r = reports[0];
    assert_eq!((r.failed, r.dropped), (0, 0), "{r:?}");
    assert_eq!(r.received, r.recorded + r.before_key, "{r:?}");
    let segs = camera_segments(nvr, camera);
    assert_eq!(check_segments(&nvr.data(), &segs), r.recorded);
    for w in segs.windows(2) {
        let gap = w[1].start_us - w[0].end_us();
        assert!(
            gap.abs() <= 1,
            "{camera}: a gap of {gap} µs between segments"
        );
    }
}

/// The simulated ONVIF camera (tests/support/onvif_device.py): discovery on
/// loopback's multicast, its services on `http_port`, profiles "main" and
/// "sub" giving `main` and `sub`; `media_host` is the host it names for its
/// media service.
pub fn onvif_device(
    http_port: u16,
    main: &str,
    sub: &str,
    password: &str,
    media_host: &str,
) -> Proc {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/onvif_device.py");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(script)
        .args([
            "--http-port",
            &http_port.to_string(),
            "--main",
            main,
            "--sub",
            sub,
        ])
        .args([
            "--password",
            password,
            "--name",
            "Porch Cam",
            "--media-host",
            media_host,
        ]);
    spawn_ready("the simulated ONVIF device", &mut cmd, "ready")
}
