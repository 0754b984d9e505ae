//! Configuration: the TOML file's types, parsing and validation.
//!
//! Every error names the file, the line and the key, so the owner can fix it
//! without guessing. Passwords are kept in [`Secret`], whose `Debug` hides them.

mod mqtt;
mod notify;

pub use mqtt::{Mqtt, Publish};
pub use notify::{CameraAlerts, Command, Push, PushService, Webhook};

use crate::local_time::Zone;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A configuration error that names where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the config file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: key `{key}`: {message}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// A string that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What to record from a camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordMode {
    Continuous,
    Motion,
    Off,
}

/// Which decoder motion detection uses: `auto` tries the board's hardware decoder
/// (FFmpeg's V4L2 memory-to-memory wrapper, `h264_v4l2m2m` on a Raspberry Pi 4)
/// and falls back to software; `software` never tries it; `hardware` insists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DecoderChoice {
    #[default]
    Auto,
    Software,
    Hardware,
}

/// How RTP travels from the camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RtpTransport {
    #[default]
    Tcp,
    Udp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    storage: RawStorage,
    server: Option<RawServer>,
    #[serde(default)]
    cameras: Vec<Spanned<RawCamera>>,
    mqtt: Option<mqtt::RawMqtt>,
    alerts: Option<notify::RawAlerts>,
    #[serde(default)]
    webhooks: Vec<notify::RawWebhook>,
    #[serde(default)]
    push: Vec<notify::RawPush>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    data_dir: Spanned<String>,
    segment_duration: Option<Spanned<String>>,
    fragment_duration: Option<Spanned<String>>,
    flush_interval: Option<Spanned<String>>,
    max_age: Option<Spanned<String>>,
    continuous_max_age: Option<Spanned<String>>,
    motion_max_age: Option<Spanned<String>>,
    event_max_age: Option<Spanned<String>>,
    max_bytes: Option<Spanned<String>>,
    min_free: Option<Spanned<String>>,
    retention_interval: Option<Spanned<String>>,
    index_cache: Option<Spanned<String>>,
    encryption_key_file: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Spanned<String>,
    tls: Option<Spanned<String>>,
    cert_file: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    session_idle: Option<Spanned<String>>,
    session_max: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCamera {
    name: Spanned<String>,
    url: Spanned<String>,
    sub_url: Option<Spanned<String>>,
    username: Option<String>,
    password: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    #[serde(default = "default_record")]
    record: RecordMode,
    #[serde(default)]
    record_sub: bool,
    #[serde(default)]
    transport: RtpTransport,
    #[serde(default)]
    audio: bool,
    #[serde(default)]
    allow_internet: bool,
    max_bytes: Option<Spanned<String>>,
    motion: Option<RawMotion>,
    alerts: Option<Spanned<notify::RawCameraAlerts>>,
    #[serde(default)]
    privacy_schedule: Vec<Spanned<String>>,
    #[serde(default)]
    privacy_groups: Vec<Spanned<String>>,
    #[serde(default)]
    notify_on_view: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMotion {
    enabled: Option<bool>,
    sensitivity: Option<Spanned<f64>>,
    min_area: Option<Spanned<f64>>,
    min_frames: Option<Spanned<i64>>,
    fps: Option<Spanned<f64>>,
    absorb: Option<Spanned<String>>,
    pre_roll: Option<Spanned<String>>,
    post_roll: Option<Spanned<String>>,
    #[serde(default)]
    decoder: DecoderChoice,
    #[serde(default)]
    masks: Vec<Spanned<Vec<[f64; 2]>>>,
    #[serde(default)]
    zones: Vec<RawZone>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    name: Spanned<String>,
    polygon: Spanned<Vec<[f64; 2]>>,
}

fn default_record() -> RecordMode {
    RecordMode::Continuous
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub storage: Storage,
    /// The web server; none without a `[server]` table.
    pub server: Option<Server>,
    pub cameras: Vec<Camera>,
    /// The MQTT broker to publish to; none without an `[mqtt]` table.
    pub mqtt: Option<Mqtt>,
    /// Where the household opens Hearth, for links in alerts (`[alerts] link_base`).
    pub link_base: Option<url::Url>,
    pub webhooks: Vec<Webhook>,
    pub push: Vec<Push>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    pub listen: std::net::SocketAddr,
    pub tls: Tls,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, used or not.
    pub session_max: Duration,
    /// The household's time zone: every time the web pages show or take.
    pub timezone: Zone,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Plain HTTP: only for a loopback address or behind a TLS proxy.
    Off,
    /// A certificate generated on first start and kept in the data directory.
    SelfSigned,
    /// The owner's certificate chain and key, PEM.
    Files { cert: PathBuf, key: PathBuf },
}

/// SQLite's own default page cache, 2 MiB.
pub const DEFAULT_INDEX_CACHE: u64 = 2 << 20;

#[derive(Clone, Debug, PartialEq)]
pub struct Storage {
    pub data_dir: PathBuf,
    /// Target length of one segment file; a segment ends on the first key frame after it.
    pub segment_duration: Duration,
    /// Longest fragment when the camera's GOP is longer than this.
    pub fragment_duration: Duration,
    /// How often written data is synced to disk and indexed: the most a crash can lose.
    pub flush_interval: Duration,
    pub max_age: Option<Duration>,
    /// Layered retention: ages by class, and of motion events.
    pub continuous_max_age: Option<Duration>,
    pub motion_max_age: Option<Duration>,
    pub event_max_age: Option<Duration>,
    pub max_bytes: Option<u64>,
    pub min_free: u64,
    pub retention_interval: Duration,
    /// Memory the index (SQLite) may keep of its file's pages; it fills as the
    /// index grows, then stays.
    pub index_cache: u64,
    /// The master key that seals new footage (encryption at rest); best kept
    /// off the recordings disk.
    pub encryption_key_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Camera {
    pub name: String,
    pub url: url::Url,
    pub sub_url: Option<url::Url>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub record: RecordMode,
    pub record_sub: bool,
    pub transport: RtpTransport,
    pub audio: bool,
    /// The camera may be at an address off the local network (see `egress`).
    pub allow_internet: bool,
    pub max_bytes: Option<u64>,
    pub motion: Motion,
    /// Which events alert, and what may leave with them (`[cameras.alerts]`).
    pub alerts: CameraAlerts,
    /// When the camera is private by schedule (nothing pulled from it), in the
    /// household's time zone.
    pub privacy_schedule: crate::privacy_schedule::Schedule,
    /// Groups whose privacy switches together ("home mode").
    pub privacy_groups: Vec<String>,
    /// Every view of its footage, live or recorded, is announced through the
    /// configured channels.
    pub notify_on_view: bool,
}

/// Motion detection settings of a camera.
#[derive(Clone, Debug, PartialEq)]
pub struct Motion {
    pub enabled: bool,
    pub detector: crate::motion_settings::DetectorConfig,
    /// Footage kept before an event starts (motion recording mode).
    pub pre_roll: Duration,
    /// Footage kept after an event ends.
    pub post_roll: Duration,
    pub decoder: DecoderChoice,
}

impl Default for Motion {
    fn default() -> Self {
        Motion {
            enabled: true,
            detector: crate::motion_settings::DetectorConfig::default(),
            pre_roll: Duration::from_secs(5),
            post_roll: Duration::from_secs(10),
            decoder: DecoderChoice::Auto,
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates config text; `path` is used in messages and to resolve
    /// relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let ctx = Ctx { text, path };
        let raw: RawConfig = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let s = raw.storage;
        let data_dir = ctx.nonempty("data_dir", &s.data_dir)?;
        let storage = Storage {
            data_dir: base.join(data_dir),
            segment_duration: ctx.duration_or("segment_duration", &s.segment_duration, 60)?,
            fragment_duration: ctx.duration_or("fragment_duration", &s.fragment_duration, 1)?,
            flush_interval: ctx.duration_or("flush_interval", &s.flush_interval, 2)?,
            max_age: ctx.opt(&s.max_age, |v| ctx.duration("max_age", v))?,
            continuous_max_age: ctx.opt(&s.continuous_max_age, |v| {
                ctx.duration("continuous_max_age", v)
            })?,
            motion_max_age: ctx.opt(&s.motion_max_age, |v| ctx.duration("motion_max_age", v))?,
            event_max_age: ctx.opt(&s.event_max_age, |v| ctx.duration("event_max_age", v))?,
            max_bytes: ctx.opt(&s.max_bytes, |v| ctx.size("max_bytes", v))?,
            min_free: ctx
                .opt(&s.min_free, |v| ctx.size("min_free", v))?
                .unwrap_or(1 << 30),
            retention_interval: ctx.duration_or("retention_interval", &s.retention_interval, 30)?,
            index_cache: ctx
                .opt(&s.index_cache, |v| ctx.size("index_cache", v))?
                .unwrap_or(DEFAULT_INDEX_CACHE),
            encryption_key_file: ctx.opt(&s.encryption_key_file, |v| {
                ctx.nonempty("encryption_key_file", v).map(|p| base.join(p))
            })?,
        };
        if !(64 << 10..=1 << 30).contains(&storage.index_cache) {
            let v = s.index_cache.as_ref().map_or(0, |v| v.span().start);
            return Err(ctx.err(v, "index_cache", "must be between 64KiB and 1GiB"));
        }
        if !(Duration::from_secs(2)..=Duration::from_secs(3600)).contains(&storage.segment_duration)
        {
            let v = s.segment_duration.as_ref().map_or(0, |v| v.span().start);
            return Err(ctx.err(v, "segment_duration", "must be between 2s and 1h"));
        }
        if !(Duration::from_millis(100)..=Duration::from_secs(10))
            .contains(&storage.fragment_duration)
        {
            let v = s.fragment_duration.as_ref().map_or(0, |v| v.span().start);
            return Err(ctx.err(v, "fragment_duration", "must be between 100ms and 10s"));
        }
        let server = raw.server.map(|sv| ctx.server(&sv, base)).transpose()?;
        let mut cameras: Vec<Camera> = Vec::new();
        for cam in raw.cameras {
            let at = cam.span().start;
            let c = cam.into_inner();
            let name = c.name.get_ref().clone();
            if !valid_name(&name) {
                return Err(ctx.err(
                    c.name.span().start,
                    "name",
                    "a camera name is 1 to 64 letters, digits, '-' or '_'",
                ));
            }
            if cameras.iter().any(|o| o.name == name) {
                return Err(ctx.err(
                    c.name.span().start,
                    "name",
                    &format!("duplicate camera name {name:?}"),
                ));
            }
            let url = ctx.rtsp_url("url", &c.url)?;
            let sub_url = ctx.opt(&c.sub_url, |v| ctx.rtsp_url("sub_url", v))?;
            let password = ctx.secret("password", &c.password, &c.password_file, base)?;
            if c.record == RecordMode::Motion
                && c.motion.as_ref().and_then(|m| m.enabled) == Some(false)
            {
                return Err(ctx.err(at, "record", "record = \"motion\" needs motion detection: it is disabled in [cameras.motion]"));
            }
            if password.is_some() && c.username.is_none() {
                return Err(ctx.err(at, "username", "a password needs a username"));
            }
            let motion = c
                .motion
                .as_ref()
                .map_or(Ok(Motion::default()), |m| ctx.motion(m))?;
            let alerts = match &c.alerts {
                None => CameraAlerts::default(),
                Some(a) => {
                    let parsed = ctx.camera_alerts(a.get_ref())?;
                    let known = |z: &String| motion.detector.zones.iter().any(|(n, _)| n == z);
                    if let Some(z) = parsed.zones.iter().flatten().find(|z| !known(z)) {
                        return Err(ctx.err(
                            a.span().start,
                            "zones",
                            &format!("camera {name:?} has no zone {z:?} in [cameras.motion]"),
                        ));
                    }
                    parsed
                }
            };
            cameras.push(Camera {
                name,
                url,
                sub_url,
                username: c.username,
                password,
                record: c.record,
                record_sub: c.record_sub,
                transport: c.transport,
                audio: c.audio,
                allow_internet: c.allow_internet,
                max_bytes: ctx.opt(&c.max_bytes, |v| ctx.size("max_bytes", v))?,
                motion,
                alerts,
                privacy_schedule: ctx.privacy_schedule(&c.privacy_schedule)?,
                privacy_groups: ctx.privacy_groups(&c.privacy_groups)?,
                notify_on_view: c.notify_on_view,
            });
        }
        let mqtt = raw.mqtt.map(|m| ctx.mqtt(&m, base)).transpose()?;
        let link_base = raw.alerts.map(|a| ctx.link_base(&a)).transpose()?.flatten();
        let names: Vec<&str> = cameras.iter().map(|c| c.name.as_str()).collect();
        let webhooks = raw
            .webhooks
            .iter()
            .map(|w| ctx.webhook(w, base, &names))
            .collect::<Result<Vec<_>, _>>()?;
        let push = raw
            .push
            .iter()
            .map(|p| ctx.push(p, base, &names))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            storage,
            server,
            cameras,
            mqtt,
            link_base,
            webhooks,
            push,
        })
    }

    pub fn camera(&self, name: &str) -> Option<&Camera> {
        self.cameras.iter().find(|c| c.name == name)
    }

    /// The household's time zone: the server's, else the system's.
    pub fn zone(&self) -> Zone {
        self.server
            .as_ref()
            .map_or_else(Zone::system, |s| s.timezone)
    }
}

/// Camera names become directory names, so they are kept strictly to a safe set.
/// A polygon point (checked to lie in 0..1) as the detector's `f32`s.
#[allow(clippy::cast_possible_truncation, reason = "range-checked values")]
fn to_f32(x: f64, y: f64) -> (f32, f32) {
    (x as f32, y as f32)
}

/// Which of a camera's streams: its main stream (`url`) or its sub stream
/// (`sub_url`). Paths, the index and the web API spell them `main` and `sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamKind {
    Main,
    Sub,
}

impl StreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Main => "main",
            StreamKind::Sub => "sub",
        }
    }

    pub fn parse(s: &str) -> Option<StreamKind> {
        match s {
            "main" => Some(StreamKind::Main),
            "sub" => Some(StreamKind::Sub),
            _ => None,
        }
    }
}

impl std::fmt::Display for StreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

struct Ctx<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err(&self, offset: usize, key: &str, message: &str) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.display().to_string(),
            line: self.line_of(offset),
            key: key.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Turns a TOML/serde error into one naming line and key. The key is the one the
    /// message names (unknown or missing field) or the one written on that line.
    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_owned();
        let key = backticked(&message)
            .filter(|_| {
                message.starts_with("unknown field") || message.starts_with("missing field")
            })
            .or_else(|| self.key_on_line(offset))
            .unwrap_or_else(|| "?".to_owned());
        // Never echo a value: the message from serde can quote it, and it may be a password.
        let message =
            if message.starts_with("invalid type") || message.starts_with("unknown variant") {
                message
                    .split(", expected")
                    .nth(1)
                    .map(|exp| format!("expected{exp}"))
                    .unwrap_or(message)
            } else {
                message
            };
        self.err(offset, &key, &message)
    }

    fn key_on_line(&self, offset: usize) -> Option<String> {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next()?;
        let (key, _) = line.split_once('=')?;
        Some(key.trim().to_owned())
    }

    fn opt<T, U>(
        &self,
        v: &Option<T>,
        f: impl FnOnce(&T) -> Result<U, ConfigError>,
    ) -> Result<Option<U>, ConfigError> {
        v.as_ref().map(f).transpose()
    }

    fn nonempty<'v>(&self, key: &str, v: &'v Spanned<String>) -> Result<&'v str, ConfigError> {
        if v.get_ref().trim().is_empty() {
            return Err(self.err(v.span().start, key, "must not be empty"));
        }
        Ok(v.get_ref())
    }

    fn privacy_schedule(
        &self,
        items: &[Spanned<String>],
    ) -> Result<crate::privacy_schedule::Schedule, ConfigError> {
        items
            .iter()
            .map(|v| {
                crate::privacy_schedule::Window::parse(v.get_ref())
                    .map_err(|m| self.err(v.span().start, "privacy_schedule", &m))
            })
            .collect::<Result<_, _>>()
            .map(crate::privacy_schedule::Schedule)
    }

    fn privacy_groups(&self, items: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
        let mut out: Vec<String> = Vec::new();
        for v in items {
            let g = v.get_ref();
            if !valid_name(g) {
                return Err(self.err(
                    v.span().start,
                    "privacy_groups",
                    "a group name is 1 to 64 letters, digits, '-' or '_'",
                ));
            }
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
        Ok(out)
    }

    fn duration(&self, key: &str, v: &Spanned<String>) -> Result<Duration, ConfigError> {
        parse_duration(v.get_ref()).map_err(|m| self.err(v.span().start, key, &m))
    }

    fn duration_or(
        &self,
        key: &str,
        v: &Option<Spanned<String>>,
        default_secs: u64,
    ) -> Result<Duration, ConfigError> {
        Ok(self
            .opt(v, |v| self.duration(key, v))?
            .unwrap_or(Duration::from_secs(default_secs)))
    }

    fn size(&self, key: &str, v: &Spanned<String>) -> Result<u64, ConfigError> {
        parse_size(v.get_ref()).map_err(|m| self.err(v.span().start, key, &m))
    }

    /// A range-checked number as the detector's `f32` (every such range lies far
    /// inside `f32`).
    fn number_f32(
        &self,
        key: &str,
        v: &Option<Spanned<f64>>,
        default: f32,
        range: std::ops::RangeInclusive<f64>,
    ) -> Result<f32, ConfigError> {
        #[allow(clippy::cast_possible_truncation, reason = "range-checked values")]
        self.number(key, v, f64::from(default), range)
            .map(|n| n as f32)
    }

    fn number<T: Copy + PartialOrd + fmt::Display>(
        &self,
        key: &str,
        v: &Option<Spanned<T>>,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError> {
        match v {
            None => Ok(default),
            Some(s) if range.contains(s.get_ref()) => Ok(*s.get_ref()),
            Some(s) => Err(self.err(
                s.span().start,
                key,
                &format!("must be between {} and {}", range.start(), range.end()),
            )),
        }
    }

    fn polygon(
        &self,
        key: &str,
        v: &Spanned<Vec<[f64; 2]>>,
    ) -> Result<crate::motion_settings::Polygon, ConfigError> {
        let pts = v.get_ref();
        if pts.len() < 3 {
            return Err(self.err(v.span().start, key, "a polygon needs at least 3 points"));
        }
        if pts.iter().flatten().any(|c| !(0.0..=1.0).contains(c)) {
            return Err(self.err(
                v.span().start,
                key,
                "points are [x, y] from 0 to 1 across and down the picture",
            ));
        }
        Ok(crate::motion_settings::Polygon(
            pts.iter().map(|&[x, y]| to_f32(x, y)).collect(),
        ))
    }

    fn motion(&self, m: &RawMotion) -> Result<Motion, ConfigError> {
        let d = crate::motion_settings::DetectorConfig::default();
        let mut zones = Vec::new();
        for z in &m.zones {
            if !valid_name(z.name.get_ref()) {
                return Err(self.err(
                    z.name.span().start,
                    "name",
                    "a zone name is 1 to 64 letters, digits, '-' or '_'",
                ));
            }
            zones.push((
                z.name.get_ref().clone(),
                self.polygon("polygon", &z.polygon)?,
            ));
        }
        let def = Motion::default();
        Ok(Motion {
            enabled: m.enabled.unwrap_or(true),
            detector: crate::motion_settings::DetectorConfig {
                sensitivity: self.number_f32(
                    "sensitivity",
                    &m.sensitivity,
                    d.sensitivity,
                    0.0..=1.0,
                )?,
                min_area: self.number_f32("min_area", &m.min_area, d.min_area, 0.0..=1.0)?,
                min_frames: self
                    .number(
                        "min_frames",
                        &m.min_frames,
                        i64::from(d.min_frames),
                        1..=100,
                    )
                    .map(|n| u32::try_from(n).unwrap_or(u32::MAX))?,
                fps: self.number_f32("fps", &m.fps, d.fps, 0.5..=30.0)?,
                absorb_s: self
                    .opt(&m.absorb, |v| self.duration("absorb", v))?
                    .map_or(d.absorb_s, |v| v.as_secs_f32()),
                masks: m
                    .masks
                    .iter()
                    .map(|p| self.polygon("masks", p))
                    .collect::<Result<_, _>>()?,
                zones,
            },
            pre_roll: self
                .opt(&m.pre_roll, |v| self.duration("pre_roll", v))?
                .unwrap_or(def.pre_roll),
            post_roll: self
                .opt(&m.post_roll, |v| self.duration("post_roll", v))?
                .unwrap_or(def.post_roll),
            decoder: m.decoder,
        })
    }

    fn server(&self, sv: &RawServer, base: &Path) -> Result<Server, ConfigError> {
        let listen = sv.listen.get_ref().parse().map_err(|_| {
            self.err(
                sv.listen.span().start,
                "listen",
                "not an address:port such as 127.0.0.1:8443 or 0.0.0.0:8443",
            )
        })?;
        let path = |key: &str, v: &Option<Spanned<String>>, at: usize| {
            v.as_ref()
                .map(|p| base.join(p.get_ref()))
                .ok_or_else(|| self.err(at, key, &format!("tls = \"files\" needs {key}")))
        };
        let tls = match sv
            .tls
            .as_ref()
            .map(|t| (t.get_ref().as_str(), t.span().start))
        {
            None | Some(("self-signed", _)) => Tls::SelfSigned,
            Some(("off", _)) if std::net::SocketAddr::ip(&listen).is_loopback() => Tls::Off,
            Some(("off", at)) => {
                return Err(self.err(
                    at,
                    "tls",
                    "\"off\" is only allowed when listen is a loopback address (127.0.0.1 or ::1): \
                     passwords and footage would cross the network in the clear",
                ));
            }
            Some(("files", at)) => Tls::Files {
                cert: path("cert_file", &sv.cert_file, at)?,
                key: path("key_file", &sv.key_file, at)?,
            },
            Some((_, at)) => {
                return Err(self.err(at, "tls", "expected \"self-signed\", \"files\" or \"off\""));
            }
        };
        Ok(Server {
            listen,
            tls,
            session_idle: self.duration_or("session_idle", &sv.session_idle, 30 * 60)?,
            session_max: self.duration_or("session_max", &sv.session_max, 7 * 86400)?,
            timezone: match &sv.timezone {
                None => Zone::system(),
                Some(z) => Zone::named(z.get_ref()).ok_or_else(|| {
                    self.err(
                        z.span().start,
                        "timezone",
                        "not a time zone: expected an IANA name such as \"Europe/Berlin\" \
                         or \"America/New_York\" (see /usr/share/zoneinfo)",
                    )
                })?,
            },
        })
    }

    /// A secret given inline as `key` or in `key_file` (its first line), never both.
    fn secret(
        &self,
        key: &str,
        inline: &Option<Spanned<String>>,
        file: &Option<Spanned<String>>,
        base: &Path,
    ) -> Result<Option<Secret>, ConfigError> {
        let file_key = format!("{key}_file");
        match (inline, file) {
            (Some(_), Some(f)) => Err(self.err(
                f.span().start,
                &file_key,
                &format!("give either {key} or {file_key}, not both"),
            )),
            (Some(p), None) => Ok(Some(Secret::new(p.get_ref().clone()))),
            (None, Some(f)) => {
                let p = base.join(f.get_ref());
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    self.err(
                        f.span().start,
                        &file_key,
                        &format!("cannot read {}: {e}", p.display()),
                    )
                })?;
                // The first line, as documented: a note below it is not the secret.
                let first = text.lines().next().unwrap_or("");
                Ok(Some(Secret::new(first.trim_end_matches('\r').to_owned())))
            }
            (None, None) => Ok(None),
        }
    }

    fn rtsp_url(&self, key: &str, v: &Spanned<String>) -> Result<url::Url, ConfigError> {
        let at = v.span().start;
        // The URL text may hold credentials, so the parser's message is used, never the text.
        camera_url(v.get_ref()).map_err(|m| self.err(at, key, &m))
    }
}

/// A camera's stream URL, or what is wrong with it (never quoting the text,
/// which may hold credentials).
pub fn camera_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a valid URL: {e}"))?;
    match url.scheme() {
        "rtsp" => {}
        "rtsps" => {
            return Err(
                "rtsps:// (RTSP over TLS) is not supported yet: use the camera's \
                        rtsp:// URL on the local network"
                    .into(),
            );
        }
        _ => return Err("the URL must start with rtsp://".into()),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put credentials in `username` and `password`, not in the URL".into());
    }
    Ok(url)
}

fn backticked(s: &str) -> Option<String> {
    let a = s.find('`')?;
    let b = s[a + 1..].find('`')?;
    Some(s[a + 1..a + 1 + b].to_owned())
}

/// Parses durations such as `500ms`, `60s`, `5m`, `2h`, `30d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{s:?} is not a duration: it needs a unit (ms, s, m, h or d)"))?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 60s, 5m, 2h or 30d"))?;
    let ms = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "{s:?} is not a duration such as 60s, 5m, 2h or 30d"
            ));
        }
    };
    n.checked_mul(ms)
        .filter(|&v| v > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{s:?} is out of range"))
}

/// Parses sizes such as `1048576`, `500MB`, `10GiB`, `2TB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{t:?} is not a size such as 500MB or 10GiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "{t:?} has an unknown unit: use B, KB, MB, GB, TB or KiB..TiB"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{t:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/etc/hearth/hearth.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("front.pass"),
            "s3cret\r\nset by Ann, 2026\n",
        )
        .unwrap();
        let text = "[storage]\ndata_dir = \"d\"\n\n[[cameras]]\nname = \"front\"\n\
                    url = \"rtsp://192.168.1.20/main\"\nusername = \"admin\"\n\
                    password_file = \"front.pass\"\n";
        let cfg = Config::parse(text, &dir.path().join("hearth.toml")).unwrap();
        let pw = cfg.cameras[0].password.as_ref().unwrap();
        assert_eq!(pw.expose(), "s3cret");
    }

    const GOOD: &str = r#"
[storage]
data_dir = "/var/lib/hearth"
max_bytes = "10GB"

[[cameras]]
name = "front"
url = "rtsp://192.168.1.20:554/main"
sub_url = "rtsp://192.168.1.20:554/sub"
username = "admin"
password = "hunter2"
record = "continuous"
"#;

    #[test]
    fn good_config_parses() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.cameras.len(), 1);
        assert_eq!(c.storage.max_bytes, Some(10_000_000_000));
        assert_eq!(c.cameras[0].password.as_ref().unwrap().expose(), "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = parse(&GOOD.replace("record = ", "recrod = ")).unwrap_err();
        assert!(
            e.starts_with("/etc/hearth/hearth.toml:12: key `recrod`"),
            "{e}"
        );
    }

    #[test]
    fn bad_url_duplicates_sizes_durations() {
        let e = parse(&GOOD.replace("rtsp://192.168.1.20:554/main", "http://x/")).unwrap_err();
        assert!(
            e.contains(":8: key `url`: the URL must start with rtsp://"),
            "{e}"
        );
        let e = parse(&GOOD.replace("10GB", "10 parsecs")).unwrap_err();
        assert!(e.contains(":4: key `max_bytes`"), "{e}");
        let dup = format!("{GOOD}\n[[cameras]]\nname = \"front\"\nurl = \"rtsp://h/\"\n");
        let e = parse(&dup).unwrap_err();
        assert!(e.contains(":15: key `name`: duplicate camera name"), "{e}");
        let e =
            parse(&GOOD.replace("max_bytes = \"10GB\"", "max_age = \"3 fortnights\"")).unwrap_err();
        assert!(e.contains(":4: key `max_age`"), "{e}");
    }

    #[test]
    fn password_never_in_errors() {
        let t = GOOD.replace(
            "rtsp://192.168.1.20:554/main",
            "rtsp://admin:hunter2@h:99999/",
        );
        let e = parse(&t).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let t = GOOD.replace("password = \"hunter2\"", "password = 12345");
        let e = parse(&t).unwrap_err();
        assert!(!e.contains("12345") && e.contains("key `password`"), "{e}");
    }

    #[test]
    fn motion_settings() {
        let t = format!(
            "{GOOD}\n[cameras.motion]\nsensitivity = 0.7\nmin_frames = 3\npre_roll = \"8s\"\n\
             masks = [[[0.0, 0.0], [0.3, 0.0], [0.3, 0.4]]]\n\
             [[cameras.motion.zones]]\nname = \"drive\"\npolygon = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0]]\n"
        );
        let c = parse(&t).unwrap();
        let m = &c.cameras[0].motion;
        assert_eq!(m.detector.sensitivity, 0.7);
        assert_eq!(m.detector.min_frames, 3);
        assert_eq!(m.pre_roll, Duration::from_secs(8));
        assert_eq!(m.detector.masks.len(), 1);
        assert_eq!(m.detector.zones[0].0, "drive");
        let e = parse(&t.replace("0.7", "1.7")).unwrap_err();
        assert!(
            e.contains(":15: key `sensitivity`: must be between 0 and 1"),
            "{e}"
        );
        let e = parse(&t.replace("[1.0, 1.0]]", "[1.0, 1.5]]")).unwrap_err();
        assert!(
            e.contains("key `polygon`") && e.contains("from 0 to 1"),
            "{e}"
        );
        let off = format!("{GOOD}record = \"motion\"\n").replace("record = \"continuous\"\n", "");
        let e = parse(&format!("{off}[cameras.motion]\nenabled = false\n")).unwrap_err();
        assert!(
            e.contains("key `record`: record = \"motion\" needs motion detection"),
            "{e}"
        );
        let e = parse(&t.replace("[0.3, 0.4]]]", "]]")).unwrap_err();
        assert!(
            e.contains("key `masks`: a polygon needs at least 3 points"),
            "{e}"
        );
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3d"), Ok(Duration::from_secs(3 * 86400)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("99999999999999TB").is_err());
    }
}
