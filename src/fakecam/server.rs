//! The RTSP server of the simulated camera: OPTIONS, DESCRIBE, SETUP (TCP
//! interleaved), PLAY, GET_PARAMETER and TEARDOWN, with optional Digest or Basic
//! authentication, streaming each client from the start of the loop at real speed.

use super::rtp::Packetizer;
use super::scene::{self, SceneSpec};
use super::{Clip, clip};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const REALM: &str = "Hearth fake camera";
const MAX_LINE: usize = 8192;
const MAX_HEADERS: usize = 64;

/// How clients must authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthScheme {
    Digest,
    Basic,
}

/// Credentials the simulated camera demands.
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: String,
    pub password: String,
    pub scheme: AuthScheme,
}

struct Shared {
    main: Clip,
    sub: Clip,
    auth: Option<Auth>,
    behaviour: Behaviour,
    nonce: String,
}

/// How the simulated camera misbehaves, if it does.
#[derive(Clone, Copy, Debug)]
pub struct Behaviour {
    /// How fast the camera's clock runs against real time (1.0: exact).
    pub clock: f64,
    /// Each session is cut this long after PLAY (a flapping camera).
    pub drop_after: Option<std::time::Duration>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            clock: 1.0,
            drop_after: None,
        }
    }
}

/// A running simulated camera; stops when dropped.
pub struct FakeCamera {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FakeCamera {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeCamera {
    /// Prepares the video (encoding the scene or reading `file`) and starts serving.
    /// `clock` is how fast the camera's RTP clock runs against real time (1.0
    /// for a true clock; 1.03 gains 3 %), as a cheap camera's crystal would.
    pub async fn start(
        listen: &str,
        file: Option<&Path>,
        auth: Option<Auth>,
        behaviour: Behaviour,
    ) -> anyhow::Result<FakeCamera> {
        if !(0.5..=2.0).contains(&behaviour.clock) {
            anyhow::bail!("the clock factor must be between 0.5 and 2");
        }
        let file = file.map(Path::to_path_buf);
        let (main, sub) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Clip, Clip)> {
            match file {
                Some(f) => Ok((clip::load(&f)?, clip::load(&f)?)),
                None => Ok((
                    scene::encode(&SceneSpec::main())?,
                    scene::encode(&SceneSpec::sub())?,
                )),
            }
        })
        .await??;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            main,
            sub,
            auth,
            behaviour,
            nonce: format!("{:032x}", rand::random::<u128>()),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let _ = sock.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(sock, shared).await {
                        tracing::debug!("fake camera client: {e}");
                    }
                });
            }
        });
        Ok(FakeCamera { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

struct Request {
    method: String,
    url: String,
    headers: HashMap<String, String>,
}

/// Reads one request; `None` at end of stream. Interleaved data from the client
/// (RTCP) is skipped.
async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<Request>> {
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(None);
        }
        if buf[0] == b'$' {
            let mut h = [0u8; 4];
            r.read_exact(&mut h).await?;
            let len = u16::from_be_bytes([h[2], h[3]]) as usize;
            let mut skip = vec![0u8; len];
            r.read_exact(&mut skip).await?;
            continue;
        }
        if buf[0] == b'\r' || buf[0] == b'\n' {
            r.consume(1);
            continue;
        }
        break;
    }
    let line = read_line(r).await?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(url)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other("malformed request line"));
    };
    let mut headers = HashMap::new();
    loop {
        let l = read_line(r).await?;
        if l.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(std::io::Error::other("too many headers"));
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let body_len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if body_len > MAX_LINE {
        return Err(std::io::Error::other("body too large"));
    }
    let mut body = vec![0u8; body_len];
    r.read_exact(&mut body).await?;
    Ok(Some(Request {
        method: method.to_owned(),
        url: url.to_owned(),
        headers,
    }))
}

/// Reads every request in `data` as the server would (stopping at the first
/// malformed one) and parses their Authorization headers; returns how many were
/// whole. For fuzzing: the server's parsing, without a socket.
pub fn parse_requests(data: &[u8]) -> usize {
    let mut r = data;
    let mut n = 0;
    while let Ok(Some(req)) = futures::executor::block_on(read_request(&mut r)) {
        if let Some(a) = req.headers.get("authorization") {
            auth_params(a);
        }
        n += 1;
    }
    n
}

async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut limited = r.take(MAX_LINE as u64);
    limited.read_until(b'\n', &mut line).await?;
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::other("line too long or connection closed"));
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses `k="v", k2=v2` pairs of an Authorization header.
fn auth_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            value = &r[..end];
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim();
            rest = &rest[end..];
        }
        out.insert(key, value.to_owned());
    }
    out
}

fn authorized(shared: &Shared, req: &Request) -> bool {
    let Some(auth) = &shared.auth else {
        return true;
    };
    let (user, pass) = (&auth.user, &auth.password);
    let Some(h) = req.headers.get("authorization") else {
        return false;
    };
    if auth.scheme == AuthScheme::Basic {
        return h.strip_prefix("Basic ").is_some_and(|b| {
            B64.decode(b.trim()).ok().as_deref() == Some(format!("{user}:{pass}").as_bytes())
        });
    }
    let Some(d) = h.strip_prefix("Digest ") else {
        return false;
    };
    let p = auth_params(d);
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    if get("username") != user || get("nonce") != shared.nonce {
        return false;
    }
    let ha1 = md5_hex(&format!("{user}:{REALM}:{pass}"));
    let ha2 = md5_hex(&format!("{}:{}", req.method, get("uri")));
    let expected = if p.contains_key("qop") {
        md5_hex(&format!(
            "{ha1}:{}:{}:{}:{}:{ha2}",
            shared.nonce,
            get("nc"),
            get("cnonce"),
            get("qop")
        ))
    } else {
        md5_hex(&format!("{ha1}:{}:{ha2}", shared.nonce))
    };
    get("response") == expected
}

/// The clip a URL asks for: paths ending in `main` or `sub`, with an optional
/// `/trackID=0` control suffix.
fn clip_for<'a>(shared: &'a Shared, url: &str) -> Option<&'a Clip> {
    let path = url
        .split("://")
        .nth(1)
        .map_or(url, |r| r.find('/').map_or("", |i| &r[i..]));
    let path = path.trim_end_matches('/').trim_end_matches("/trackID=0");
    if path.ends_with("main") {
        Some(&shared.main)
    } else if path.ends_with("sub") {
        Some(&shared.sub)
    } else {
        None
    }
}

fn sdp(clip: &Clip) -> String {
    let profile: String = clip
        .sps
        .get(1..4)
        .unwrap_or(&[0x4d, 0, 0x1f])
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Hearth fake camera\r\nt=0 0\r\na=control:*\r\n\
         m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:{}\r\na=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 packetization-mode=1;profile-level-id={profile};sprop-parameter-sets={},{}\r\n\
         a=framerate:{}\r\na=control:trackID=0\r\n",
        2000,
        B64.encode(&clip.sps),
        B64.encode(&clip.pps),
        clip.fps
    )
}

async fn serve(sock: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (rd, mut wr) = sock.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let mut rd = BufReader::new(rd);
    let session = format!("{:016x}", rand::random::<u64>());
    let mut channel = 0u8;
    let mut setup_clip: Option<&Clip> = None;
    let mut player: Option<JoinHandle<()>> = None;
    let mut played: Option<String> = None;
    // A flapping camera cuts each session a while after PLAY.
    let mut cut: Option<tokio::time::Instant> = None;
    let result = loop {
        let next = async {
            match cut {
                Some(at) => tokio::time::timeout_at(at, read_request(&mut rd))
                    .await
                    .ok(),
                None => Some(read_request(&mut rd).await),
            }
        };
        let Some(next) = next.await else {
            break Ok(());
        };
        let req = match next {
            Ok(Some(r)) => r,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        if matches!(req.method.as_str(), "DESCRIBE" | "PLAY" | "TEARDOWN") {
            // A session's life in the camera's own log, for whoever checks who pulled it.
            tracing::info!("fake camera: {} {}", req.method, req.url);
            if req.method == "PLAY" {
                played = Some(req.url.clone());
                cut = shared
                    .behaviour
                    .drop_after
                    .map(|d| tokio::time::Instant::now() + d);
            }
        }
        let cseq = req
            .headers
            .get("cseq")
            .cloned()
            .unwrap_or_else(|| "0".into());
        let mut extra = String::new();
        let mut body = String::new();
        let status = if req.method != "OPTIONS" && !authorized(&shared, &req) {
            extra = match shared.auth.as_ref().map(|a| a.scheme) {
                Some(AuthScheme::Basic) => format!("WWW-Authenticate: Basic realm=\"{REALM}\"\r\n"),
                _ => format!(
                    "WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"{}\"\r\n",
                    shared.nonce
                ),
            };
            "401 Unauthorized"
        } else {
            match req.method.as_str() {
                "OPTIONS" => {
                    extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n"
                        .into();
                    "200 OK"
                }
                "DESCRIBE" => match clip_for(&shared, &req.url) {
                    Some(c) => {
                        body = sdp(c);
                        let base = format!("{}/", req.url.trim_end_matches('/'));
                        extra =
                            format!("Content-Base: {base}\r\nContent-Type: application/sdp\r\n");
                        "200 OK"
                    }
                    None => "404 Not Found",
                },
                "SETUP" => {
                    let t = req.headers.get("transport").cloned().unwrap_or_default();
                    let inter = t
                        .split(';')
                        .find_map(|p| p.trim().strip_prefix("interleaved="))
                        .and_then(|r| r.split('-').next())
                        .and_then(|c| c.parse::<u8>().ok());
                    match (clip_for(&shared, &req.url), inter) {
                        (None, _) => "404 Not Found",
                        (Some(_), None) => "461 Unsupported Transport",
                        (Some(c), Some(ch)) => {
                            channel = ch;
                            setup_clip = Some(c);
                            extra = format!(
                                "Transport: RTP/AVP/TCP;unicast;interleaved={}-{}\r\nSession: {session};timeout=60\r\n",
                                ch,
                                ch + 1
                            );
                            "200 OK"
                        }
                    }
                }
                "PLAY" => match setup_clip {
                    None => "455 Method Not Valid in This State",
                    Some(c) => {
                        let seq = rand::random::<u16>();
                        let rtptime = rand::random::<u32>();
                        let base = req.url.trim_end_matches('/');
                        extra = format!(
                            "Session: {session}\r\nRange: npt=0.000-\r\nRTP-Info: url={base}/trackID=0;seq={seq};rtptime={rtptime}\r\n"
                        );
                        if let Some(p) = player.take() {
                            p.abort();
                        }
                        // The time the loop starts for this client: tools that compare
                        // a detector's output with the clip's timeline need it.
                        tracing::debug!(url = %req.url, "playing from the start of the clip");
                        let shared = shared.clone();
                        let tx = tx.clone();
                        let is_main = std::ptr::eq(c, &shared.main);
                        player = Some(tokio::spawn(async move {
                            let clip = if is_main { &shared.main } else { &shared.sub };
                            play(clip, channel, seq, rtptime, shared.behaviour.clock, tx).await;
                        }));
                        "200 OK"
                    }
                },
                "GET_PARAMETER" | "SET_PARAMETER" => {
                    extra = format!("Session: {session}\r\n");
                    "200 OK"
                }
                "TEARDOWN" => {
                    if let Some(p) = player.take() {
                        p.abort();
                    }
                    "200 OK"
                }
                _ => "501 Not Implemented",
            }
        };
        let mut resp =
            format!("RTSP/1.0 {status}\r\nCSeq: {cseq}\r\nServer: Hearth fake camera\r\n{extra}");
        if !body.is_empty() {
            resp.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        resp.push_str("\r\n");
        resp.push_str(&body);
        if tx.send(resp.into_bytes()).await.is_err() {
            break Ok(());
        }
        if req.method == "TEARDOWN" {
            break Ok(());
        }
    };
    if let Some(p) = player {
        p.abort();
    }
    if let Some(url) = played {
        tracing::info!("fake camera: session closed ({url})");
    }
    drop(tx);
    let _ = writer.await;
    result
}

/// The low 32 bits of a clock's ticks at frame `n` (RTP time wraps by design).
#[allow(
    clippy::cast_possible_truncation,
    reason = "RTP time is the clock's ticks modulo 2^32"
)]
fn rtp_ticks(n: u64, ticks: u32, clock: f64) -> u32 {
    (n as f64 * f64::from(ticks) * clock) as u64 as u32
}

/// Sends the clip in a loop at its frame rate, with continuous RTP timestamps
/// from a clock running `clock` times real time.
async fn play(
    clip: &Clip,
    channel: u8,
    seq: u16,
    rtptime: u32,
    clock: f64,
    tx: mpsc::Sender<Vec<u8>>,
) {
    let mut pk = Packetizer {
        ssrc: rand::random(),
        seq,
    };
    let period = Duration::from_nanos(1_000_000_000 / u64::from(clip.fps.max(1)));
    // A real camera's frames come when its sensor takes them, not in step with
    // when the session began: each session starts at a random point of the
    // frame period, so that sessions opened together do not deliver their
    // frames at the same instants (which would let a reader of many cameras
    // take several frames per wake-up, more than it would from real ones).
    let phase = period.mul_f64(rand::random::<f64>());
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
    let ticks = clip.frame_ticks();
    for n in 0u64.. {
        tick.tick().await;
        let f = &clip.frames[usize::try_from(n).unwrap_or(0) % clip.frames.len()];
        // RTP timestamps wrap by design: the low 32 bits of the clock's ticks.
        let ts = rtptime.wrapping_add(rtp_ticks(n, ticks, clock));
        let mut buf = Vec::new();
        pk.picture(&f.nals, ts, |p| {
            buf.push(b'$');
            buf.push(channel);
            // Packets are cut to fit the interleaved frame's 16-bit length.
            buf.extend_from_slice(&u16::try_from(p.len()).unwrap_or(u16::MAX).to_be_bytes());
            buf.extend_from_slice(&p);
        });
        if tx.send(buf).await.is_err() {
            return;
        }
    }
}
