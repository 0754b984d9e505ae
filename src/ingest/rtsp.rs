//! One RTSP stream of one camera, kept alive forever: connect with retina, publish
//! frames to the hub, and on any failure log which camera and why, then reconnect
//! with capped exponential backoff. One camera's trouble never touches another.

use super::base_url;
use super::frame::{AudioFrame, AudioParams, Frame, VideoParams};
use super::health::Health;
use super::hub::{Hub, StreamEvent};
use super::log_budget::LogBudget;
use crate::config::{Camera, RtpTransport, StreamKind};
use crate::egress::{self, Reach};
use crate::media::clock::{self, ClockModel};
use crate::media::{MAX_FRAME_BYTES, h264, h265};
use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use futures::StreamExt;
use retina::client::{
    Credentials, PlayOptions, Session, SessionGroup, SessionOptions, SetupOptions,
    TcpTransportOptions, TeardownPolicy, Transport, UdpTransportOptions,
};
use retina::codec::{CodecItem, ParametersRef};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// No frame for this long means the camera is gone, whatever TCP says; no answer
/// to a request (DESCRIBE, SETUP, PLAY) for this long fails the session too.
const STALL_TIMEOUT: Duration = Duration::from_secs(15);
/// How long video may come without codec parameters (in the SDP or in-band)
/// before the session is given up as undecodable.
const NO_PARAMETERS_FOR: Duration = Duration::from_secs(10);
/// A session that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(60);
/// Lines a stream's connections and failures may log in each window: a
/// flapping camera cannot fill the journal (the rest are counted).
const LOG_LINES: u32 = 6;
const LOG_WINDOW: Duration = Duration::from_secs(600);

/// Session numbers are unique across the process, so frames of two sessions never
/// look continuous.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

pub struct StreamSpec {
    pub camera: Camera,
    pub kind: StreamKind,
    pub url: url::Url,
}

/// Counts reported when the stream stops.
#[derive(Debug, Default, Clone, Copy)]
pub struct IngestStats {
    pub frames: u64,
}

/// Runs until `shutdown` becomes true, then closes the hub.
pub async fn run(
    spec: StreamSpec,
    hub: Arc<Hub>,
    health: Arc<Health>,
    mut shutdown: watch::Receiver<bool>,
) -> IngestStats {
    let mut stats = IngestStats::default();
    let mut backoff = MIN_BACKOFF;
    let mut budget = LogBudget::new(LOG_LINES, LOG_WINDOW);
    let name = &spec.camera.name;
    // Sessions retina could not tear down, which the camera may still count.
    let group = Arc::new(SessionGroup::default().named(format!("{name}/{}", spec.kind)));
    while !*shutdown.borrow() {
        let stale = group.stale_sessions();
        if stale.num_sessions > 0 {
            tracing::info!(camera = %name, stream = spec.kind.as_str(), "waiting for {} earlier sessions to end on the camera", stale.num_sessions);
            tokio::select! {
                _ = group.await_stale_sessions(&stale) => {}
                _ = shutdown.wait_for(|&s| s) => break,
            }
        }
        let started = Instant::now();
        let frames_before = stats.frames;
        let res = tokio::select! {
            r = session(&spec, &group, &hub, &health, &mut stats, &mut budget) => r,
            _ = shutdown.wait_for(|&s| s) => break,
        };
        hub.send(StreamEvent::Gap { dropped: 0 });
        let err = match res {
            Ok(()) => anyhow!("the camera ended the stream"),
            Err(e) => e,
        };
        // A camera that sent video was up: it is tried again soon, however often it
        // drops; one that never got as far backs off.
        if started.elapsed() > STABLE || stats.frames > frames_before {
            backoff = MIN_BACKOFF;
        }
        // A camera that stayed up a while logs its next failure whatever went before.
        if started.elapsed() > STABLE {
            budget = LogBudget::new(LOG_LINES, LOG_WINDOW);
        }
        let msg = one_line(&format!("{err:#}"), 300);
        if let Some(held) = budget.take(Instant::now()) {
            tracing::warn!(camera = %name, stream = spec.kind.as_str(), "stream failed: {msg}; reconnecting in {}s{held}", backoff.as_secs());
        }
        health.disconnected(msg);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|&s| s) => break,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    hub.close();
    stats
}

/// One session of `spec` (no reconnect), for a connection test: its error, or
/// `Ok` when the camera ended the stream.
pub async fn one_session(spec: &StreamSpec, hub: &Hub, health: &Health) -> anyhow::Result<()> {
    let group = Arc::new(SessionGroup::default().named(format!("test/{}", spec.kind)));
    let mut budget = LogBudget::new(LOG_LINES, LOG_WINDOW);
    session(
        spec,
        &group,
        hub,
        health,
        &mut IngestStats::default(),
        &mut budget,
    )
    .await
}

type Described = Session<retina::client::Described>;

/// A request's answer, or an error naming the request when it fails or the
/// camera does not answer within [`STALL_TIMEOUT`].
async fn answered<T>(
    what: &str,
    request: impl std::future::Future<Output = Result<T, retina::Error>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(STALL_TIMEOUT, request).await {
        Err(_) => bail!("{what}: no answer within {}s", STALL_TIMEOUT.as_secs()),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => match e.status_code().and_then(status_in_words) {
            Some(words) => bail!("{what} failed: {words}"),
            None => Err(e).with_context(|| format!("{what} failed")),
        },
    }
}

/// What a camera's refusal means to its owner, for the statuses that have an
/// owner's fix (pure).
fn status_in_words(status: u16) -> Option<String> {
    Some(match status {
        300..=399 => format!(
            "the camera answered {status}, a redirect to another address; Hearth follows no \
             redirect: use the address it points to"
        ),
        401 => "the camera refused the user name or password (401 Unauthorized)".into(),
        403 => "the camera forbids this user the stream (403 Forbidden)".into(),
        404 => "the camera has no stream at this path (404 Not Found): check the URL's path".into(),
        _ => return None,
    })
}

/// The video stream's parameters read from the raw SDP, when retina could not
/// read them there (see `sdp_params`).
fn sdp_video_params(d: &Described, video: usize, cam: &str) -> Option<Arc<VideoParams>> {
    let s = &d.streams()[video];
    if s.parameters().is_some() || !s.encoding_name().eq_ignore_ascii_case("h264") {
        return None;
    }
    let (sps, pps) = super::sdp_params::h264_parameter_sets(d.sdp(), s.rtp_payload_type())?;
    match h264::avc_sample_entry(&sps, &pps) {
        Ok(p) => {
            tracing::info!(
                camera = %cam,
                "the camera's SDP has H.264 parameters in a form the RTSP library refused; read them leniently ({} {}x{})",
                p.codec,
                p.width,
                p.height
            );
            Some(Arc::new(VideoParams {
                codec: p.codec,
                width: p.width,
                height: p.height,
                sample_entry: p.sample_entry,
            }))
        }
        Err(e) => {
            tracing::warn!(camera = %cam, "the camera's SDP has unusable H.264 parameters: {e}");
            None
        }
    }
}

/// The video stream and, when wanted, the AAC audio stream to set up.
fn pick(d: &Described, audio: bool) -> anyhow::Result<(usize, Option<usize>)> {
    let video = d
        .streams()
        .iter()
        .position(|s| s.media() == "video" && matches!(s.encoding_name(), "h264" | "h265"))
        .ok_or_else(|| anyhow!("the camera offers no H.264 or H.265 video stream"))?;
    let audio = audio
        .then(|| {
            d.streams()
                .iter()
                .position(|s| s.media() == "audio" && s.encoding_name() == "mpeg4-generic")
        })
        .flatten();
    Ok((video, audio))
}

/// The session's requests (and its credentials) go only to the configured host.
fn controls_at_home(
    d: &Described,
    connected: &url::Url,
    url: &url::Url,
    video: usize,
    audio: Option<usize>,
) -> anyhow::Result<base_url::Controls> {
    let controls: Vec<Option<&url::Url>> = std::iter::once(video)
        .chain(audio)
        .map(|i| d.streams()[i].control())
        .collect();
    base_url::check(connected, url, &controls).map_err(|host| {
        anyhow!(
            "the camera's answer points the session at another host ({host}); refused, so \
             nothing (and no password) goes there"
        )
    })
}

async fn session(
    spec: &StreamSpec,
    group: &Arc<SessionGroup>,
    hub: &Hub,
    health: &Health,
    stats: &mut IngestStats,
    budget: &mut LogBudget,
) -> anyhow::Result<()> {
    let cam = &spec.camera;
    let creds = cam.username.as_ref().map(|u| Credentials {
        username: u.clone(),
        password: cam
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default(),
    });
    let opts = |teardown| {
        SessionOptions::default()
            .creds(creds.clone())
            .user_agent(format!("Hearth/{}", env!("CARGO_PKG_VERSION")))
            .teardown(teardown)
            .session_group(group.clone())
    };
    let at = egress::rtsp::check(&spec.url, Reach::from_allow_internet(cam.allow_internet)).await?;
    let describe = |teardown| answered("DESCRIBE", egress::rtsp::describe(&at, opts(teardown)));
    let home = |d: &Described, video, audio| controls_at_home(d, at.url(), &spec.url, video, audio);
    let mut described = describe(TeardownPolicy::Auto).await?;
    let (mut video, mut audio) = pick(&described, cam.audio)?;
    if home(&described, video, audio)? == base_url::Controls::Unseen {
        // A base that cannot be seen: no teardown that would open a new connection to it.
        described = describe(TeardownPolicy::Never).await?;
        (video, audio) = pick(&described, cam.audio)?;
        home(&described, video, audio)?;
    }
    let transport = match cam.transport {
        RtpTransport::Tcp => Transport::Tcp(TcpTransportOptions::default()),
        RtpTransport::Udp => Transport::Udp(UdpTransportOptions::default()),
    };
    answered(
        "SETUP",
        described.setup(video, SetupOptions::default().transport(transport.clone())),
    )
    .await?;
    let mut audio_params: Option<Arc<AudioParams>> = None;
    match audio {
        Some(i) => {
            answered(
                "SETUP of the audio stream",
                described.setup(i, SetupOptions::default().transport(transport)),
            )
            .await?;
            if let Some(ParametersRef::Audio(p)) = described.streams()[i].parameters() {
                audio_params = Some(Arc::new(AudioParams {
                    codec: p.rfc6381_codec().unwrap_or("mp4a").to_owned(),
                    clock_rate: p.clock_rate(),
                    sample_entry: p
                        .mp4_sample_entry()
                        .build()
                        .map_err(|e| anyhow!("cannot describe the audio codec: {e}"))?,
                }));
            }
        }
        None if cam.audio => {
            tracing::warn!(camera = %cam.name, stream = spec.kind.as_str(), "audio = true, but the camera offers no AAC audio")
        }
        None => {}
    }
    // The raw SDP goes with PLAY: read what retina could not from it first.
    let sdp_params = sdp_video_params(&described, video, &cam.name);
    let mut playing = answered("PLAY", described.play(PlayOptions::default()))
        .await?
        .demuxed()
        .context("cannot depacketize the video")?;
    health.connected();
    if let Some(held) = budget.take(Instant::now()) {
        tracing::info!(camera = %cam.name, stream = spec.kind.as_str(), "connected{held}");
    }
    // A new timeline for each session, and again whenever the clock model has
    // to re-anchor: consumers start over (a new segment) at a timeline change.
    let mut session_id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let mut clock = ClockModel::new();
    let mut reanchors = 0u64;
    let mut params: Option<Arc<VideoParams>> = None;
    // Since when video has come without codec parameters.
    let mut unparameterised: Option<Instant> = None;
    loop {
        let item = tokio::time::timeout(STALL_TIMEOUT, playing.next())
            .await
            .map_err(|_| anyhow!("no data for {}s", STALL_TIMEOUT.as_secs()))?;
        let item = match item {
            None => return Ok(()),
            Some(r) => r.context("stream error")?,
        };
        let f = match item {
            CodecItem::VideoFrame(f) => f,
            CodecItem::AudioFrame(a) => {
                let Some(p) = &audio_params else { continue };
                // The same clock as the video: the same correction, at audio's rate.
                let correction =
                    clock.correction_90k() * i64::from(p.clock_rate) / clock::TICKS_PER_SECOND;
                hub.send(StreamEvent::Audio(Arc::new(AudioFrame {
                    session: session_id,
                    pts: a.timestamp().elapsed() + correction,
                    duration: a.frame_length().get(),
                    data: Bytes::copy_from_slice(a.data()),
                    params: p.clone(),
                })));
                continue;
            }
            _ => continue,
        };
        if params.is_none() || f.has_new_parameters() {
            match playing.streams()[f.stream_id()].parameters() {
                Some(ParametersRef::Video(v)) => {
                    let (width, height) = v.pixel_dimensions();
                    params = Some(Arc::new(VideoParams {
                        codec: v.rfc6381_codec().to_owned(),
                        width,
                        height,
                        sample_entry: v
                            .mp4_sample_entry()
                            .build()
                            .map_err(|e| anyhow!("cannot describe the codec: {e}"))?,
                    }));
                }
                _ if sdp_params.is_some() => params = sdp_params.clone(),
                _ => {
                    // Parameter sets may still come in-band: wait for them a while.
                    let since = *unparameterised.get_or_insert_with(Instant::now);
                    if since.elapsed() >= NO_PARAMETERS_FOR {
                        bail!(
                            "no H.264/H.265 parameter sets: none readable in the SDP and none in the \
                             video for {} s",
                            NO_PARAMETERS_FOR.as_secs()
                        );
                    }
                    continue;
                }
            }
        }
        let Some(p) = &params else { continue };
        let ts = f.timestamp();
        let rate = i64::from(ts.clock_rate().get());
        let raw_90k = if rate == clock::TICKS_PER_SECOND {
            ts.elapsed()
        } else {
            ts.elapsed() * clock::TICKS_PER_SECOND / rate
        };
        let now = Instant::now();
        let arrival_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let key = f.is_random_access_point()
            || (p.codec.starts_with("hvc1") && h265::is_irap_access_unit(f.data()));
        let data = Bytes::from(f.into_data());
        if data.len() > MAX_FRAME_BYTES {
            // No camera sends such a picture; everything downstream may rely on it.
            tracing::warn!(
                camera = %cam.name,
                stream = spec.kind.as_str(),
                "dropped a frame of {} bytes (more than {MAX_FRAME_BYTES})",
                data.len()
            );
            continue;
        }
        let stamp = clock.stamp(raw_90k, arrival_us);
        if stamp.reanchored {
            reanchors += 1;
            session_id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
            if reanchors == 1 || reanchors % 20 == 0 {
                tracing::warn!(
                    camera = %cam.name,
                    stream = spec.kind.as_str(),
                    "the camera's clock and ours are over {} ms apart (time jumped, or it runs \
                     more than {} ppm off): re-anchored on our clock, a new segment begins \
                     ({reanchors} times this session)",
                    clock::REANCHOR_US / 1_000,
                    clock::MAX_SLEW_PPM
                );
            }
        }
        health.frame(now, data.len());
        stats.frames += 1;
        hub.send(StreamEvent::Frame(Arc::new(Frame {
            session: session_id,
            pts: stamp.pts_90k,
            wall_us: stamp.wall_us,
            key,
            data,
            params: p.clone(),
            audio: audio_params.clone(),
        })));
    }
}

/// Folds a message onto one line of at most `max` characters: retina's messages
/// can span lines and quote kilobytes of what a broken camera sent.
pub fn one_line(s: &str, max: usize) -> String {
    let folded = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_are_said_in_words() {
        assert!(
            super::status_in_words(401)
                .unwrap()
                .contains("user name or password")
        );
        assert!(
            super::status_in_words(302)
                .unwrap()
                .contains("follows no redirect")
        );
        assert!(super::status_in_words(404).unwrap().contains("path"));
        assert_eq!(super::status_in_words(500), None);
    }

    #[test]
    fn messages_are_folded_and_cut() {
        assert_eq!(super::one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(super::one_line(&"é".repeat(20), 5), "ééééé…");
    }
}
