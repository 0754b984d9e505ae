//! Where alerts go besides MQTT, and which ones a camera sends: `[[webhooks]]`
//! (signed JSON to the owner's URLs), `[[push]]` (ntfy or Gotify on a server the
//! owner runs), `[alerts]` (the link back to Hearth) and each camera's
//! `[cameras.alerts]` (zones that alert, cooldown, quiet hours, whether a
//! picture may leave, which MQTT commands it takes). Errors name file, line and key.

use super::{ConfigError, Ctx, Secret};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    link_base: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    url: Spanned<String>,
    secret: Option<Spanned<String>>,
    secret_file: Option<Spanned<String>>,
    cameras: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    allow_internet: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPush {
    service: Spanned<String>,
    url: Spanned<String>,
    token: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    cameras: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    allow_internet: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCameraAlerts {
    zones: Option<Vec<String>>,
    cooldown: Option<Spanned<String>>,
    quiet_hours: Option<Spanned<String>>,
    #[serde(default)]
    snapshots: bool,
    mqtt_commands: Option<Spanned<Vec<String>>>,
}

/// A URL the owner's receiver listens on, POSTed a signed JSON body per event
/// start and end.
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    pub url: url::Url,
    /// The HMAC-SHA256 key of the signature header.
    pub secret: Secret,
    /// The cameras it hears of; `None` is all.
    pub cameras: Option<Vec<String>>,
    pub allow_internet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushService {
    /// `url` is the topic's URL (`http://ntfy.lan/hearth`).
    Ntfy,
    /// `url` is the server's URL; the token is an application token.
    Gotify,
}

/// A push server the owner runs, told of each event that alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct Push {
    pub service: PushService,
    pub url: url::Url,
    pub token: Option<Secret>,
    pub cameras: Option<Vec<String>>,
    pub allow_internet: bool,
}

/// One MQTT command a camera may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `<prefix>/<camera>/recording/set` ON/OFF.
    Recording,
    /// `<prefix>/<camera>/privacy/set` ON/OFF (and its groups' switches).
    Privacy,
}

impl Command {
    /// The command's word in the config and in its topics.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Recording => "recording",
            Command::Privacy => "privacy",
        }
    }
}

/// Which of a camera's events alert, and what may leave with them.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraAlerts {
    /// Push only for motion in one of these zones; `None` is any motion.
    pub zones: Option<Vec<String>>,
    /// At most one push per camera in this time.
    pub cooldown: Duration,
    /// Local wall-clock minutes (from, to) without pushes; may wrap midnight.
    pub quiet_hours: Option<(u16, u16)>,
    /// A picture of an event may leave Hearth (push thumbnail, webhook
    /// snapshot, MQTT camera entity); each one that does is audited.
    pub snapshots: bool,
    pub mqtt_commands: Vec<Command>,
}

impl Default for CameraAlerts {
    fn default() -> Self {
        CameraAlerts {
            zones: None,
            cooldown: Duration::from_secs(120),
            quiet_hours: None,
            snapshots: false,
            mqtt_commands: Vec::new(),
        }
    }
}

/// `HH:MM-HH:MM` as minutes of the day (pure).
pub fn parse_quiet_hours(s: &str) -> Result<(u16, u16), String> {
    let minutes = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && t.trim().len() == 5).then_some(h * 60 + m)
    };
    let bad = || "quiet hours are HH:MM-HH:MM in local time, such as \"22:30-07:00\"".to_owned();
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let (a, b) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
    if a == b {
        return Err("quiet hours from and to are the same time".to_owned());
    }
    Ok((a, b))
}

impl Ctx<'_> {
    pub(super) fn link_base(&self, a: &RawAlerts) -> Result<Option<url::Url>, ConfigError> {
        self.opt(&a.link_base, |v| {
            let u = url::Url::parse(v.get_ref()).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.query().is_none()
            });
            u.ok_or_else(|| {
                self.err(
                    v.span().start,
                    "link_base",
                    "the address the household opens Hearth at, such as \"https://hearth.lan:8443\"",
                )
            })
        })
    }

    /// An http(s) URL with no credentials in it (they go in the secret keys).
    fn http_url(&self, key: &str, v: &Spanned<String>) -> Result<url::Url, ConfigError> {
        let at = v.span().start;
        let u = url::Url::parse(v.get_ref())
            .map_err(|e| self.err(at, key, &format!("not a valid URL: {e}")))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(self.err(at, key, "an http:// or https:// URL"));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(self.err(
                at,
                key,
                "no credentials in the URL: use the secret or token keys",
            ));
        }
        Ok(u)
    }

    /// The cameras a destination hears of, each one that exists.
    fn cameras(
        &self,
        v: &Option<Spanned<Vec<String>>>,
        known: &[&str],
    ) -> Result<Option<Vec<String>>, ConfigError> {
        self.opt(v, |v| {
            match v.get_ref().iter().find(|n| !known.contains(&n.as_str())) {
                Some(n) => Err(self.err(
                    v.span().start,
                    "cameras",
                    &format!("there is no camera {n:?}"),
                )),
                None => Ok(v.get_ref().clone()),
            }
        })
    }

    pub(super) fn webhook(
        &self,
        w: &RawWebhook,
        base: &Path,
        known: &[&str],
    ) -> Result<Webhook, ConfigError> {
        let secret = self.secret("secret", &w.secret, &w.secret_file, base)?;
        let secret = secret.filter(|s| s.expose().len() >= 16).ok_or_else(|| {
            self.err(
                w.url.span().start,
                "secret",
                "a webhook needs a secret (or secret_file) of at least 16 characters to sign with",
            )
        })?;
        Ok(Webhook {
            url: self.http_url("url", &w.url)?,
            secret,
            cameras: self.cameras(&w.cameras, known)?,
            allow_internet: w.allow_internet,
        })
    }

    pub(super) fn push(
        &self,
        p: &RawPush,
        base: &Path,
        known: &[&str],
    ) -> Result<Push, ConfigError> {
        let service = match p.service.get_ref().as_str() {
            "ntfy" => PushService::Ntfy,
            "gotify" => PushService::Gotify,
            _ => {
                return Err(self.err(
                    p.service.span().start,
                    "service",
                    "expected \"ntfy\" or \"gotify\"",
                ));
            }
        };
        let url = self.http_url("url", &p.url)?;
        if service == PushService::Ntfy && url.path().trim_matches('/').is_empty() {
            return Err(self.err(
                p.url.span().start,
                "url",
                "ntfy's URL is the topic's, such as \"http://ntfy.lan/hearth\"",
            ));
        }
        let token = self.secret("token", &p.token, &p.token_file, base)?;
        if service == PushService::Gotify && token.is_none() {
            return Err(self.err(
                p.url.span().start,
                "token",
                "Gotify needs an application token (token or token_file)",
            ));
        }
        Ok(Push {
            service,
            url,
            token,
            cameras: self.cameras(&p.cameras, known)?,
            allow_internet: p.allow_internet,
        })
    }

    pub(super) fn camera_alerts(&self, a: &RawCameraAlerts) -> Result<CameraAlerts, ConfigError> {
        let def = CameraAlerts::default();
        let mut mqtt_commands = Vec::new();
        if let Some(c) = &a.mqtt_commands {
            for what in c.get_ref() {
                match what.as_str() {
                    "recording" => mqtt_commands.push(Command::Recording),
                    "privacy" => mqtt_commands.push(Command::Privacy),
                    _ => {
                        return Err(self.err(
                            c.span().start,
                            "mqtt_commands",
                            "the commands are \"recording\" and \"privacy\"",
                        ));
                    }
                }
            }
        }
        Ok(CameraAlerts {
            zones: a.zones.clone(),
            cooldown: self
                .opt(&a.cooldown, |v| self.duration("cooldown", v))?
                .unwrap_or(def.cooldown),
            quiet_hours: self.opt(&a.quiet_hours, |v| {
                parse_quiet_hours(v.get_ref())
                    .map_err(|m| self.err(v.span().start, "quiet_hours", &m))
            })?,
            snapshots: a.snapshots,
            mqtt_commands,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const BASE: &str = "[storage]\ndata_dir = \"d\"\n\n";

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(&format!("{BASE}{text}"), Path::new("/etc/hearth.toml"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn quiet_hours_are_two_wall_times() {
        assert_eq!(parse_quiet_hours("22:30-07:00"), Ok((1350, 420)));
        assert_eq!(parse_quiet_hours("00:00-06:15"), Ok((0, 375)));
        for bad in ["22-7", "24:00-01:00", "10:00-10:00", "9:00-10:00", ""] {
            assert!(parse_quiet_hours(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhooks_push_and_camera_alerts() {
        let c = parse(
            "[alerts]\nlink_base = \"https://hearth.lan:8443\"\n\
             [[webhooks]]\nurl = \"http://192.168.1.9/hook\"\nsecret = \"0123456789abcdef\"\n\
             [[push]]\nservice = \"ntfy\"\nurl = \"http://ntfy.lan/doorbell\"\n\
             [[push]]\nservice = \"gotify\"\nurl = \"http://gotify.lan\"\ntoken = \"Abc\"\ncameras = [\"door\"]\n\
             [[cameras]]\nname = \"door\"\nurl = \"rtsp://10.0.0.2/s\"\n\
             [[cameras.motion.zones]]\nname = \"porch\"\npolygon = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]\n\
             [cameras.alerts]\nzones = [\"porch\"]\ncooldown = \"30s\"\nquiet_hours = \"23:00-06:30\"\n\
             snapshots = true\nmqtt_commands = [\"recording\"]\n",
        )
        .unwrap();
        assert_eq!(c.link_base.unwrap().as_str(), "https://hearth.lan:8443/");
        assert_eq!(c.webhooks[0].secret.expose(), "0123456789abcdef");
        assert_eq!(c.push[0].service, PushService::Ntfy);
        assert_eq!(c.push[1].cameras, Some(vec!["door".to_owned()]));
        let a = &c.cameras[0].alerts;
        assert_eq!(a.zones, Some(vec!["porch".to_owned()]));
        assert_eq!(
            (a.cooldown, a.quiet_hours, a.snapshots),
            (Duration::from_secs(30), Some((1380, 390)), true)
        );
        assert_eq!(a.mqtt_commands, vec![Command::Recording]);
    }

    #[test]
    fn mistakes_name_line_and_key() {
        for (text, key) in [
            ("[[webhooks]]\nurl = \"http://x/h\"\n", "secret"),
            (
                "[[webhooks]]\nurl = \"http://x/h\"\nsecret = \"short\"\n",
                "secret",
            ),
            (
                "[[webhooks]]\nurl = \"ftp://x/h\"\nsecret = \"0123456789abcdef\"\n",
                "url",
            ),
            (
                "[[webhooks]]\nurl = \"http://u:pw@x/h\"\nsecret = \"0123456789abcdef\"\n",
                "url",
            ),
            (
                "[[push]]\nservice = \"pushover\"\nurl = \"http://x/t\"\n",
                "service",
            ),
            ("[[push]]\nservice = \"ntfy\"\nurl = \"http://x/\"\n", "url"),
            (
                "[[push]]\nservice = \"gotify\"\nurl = \"http://x/\"\n",
                "token",
            ),
            ("[alerts]\nlink_base = \"hearth.lan\"\n", "link_base"),
            (
                "[[push]]\nservice = \"ntfy\"\nurl = \"http://x/t\"\ncameras = [\"nope\"]\n",
                "cameras",
            ),
            (
                "[[cameras]]\nname = \"a\"\nurl = \"rtsp://x/\"\n[cameras.alerts]\nzones = [\"porch\"]\n",
                "zones",
            ),
            (
                "[[cameras]]\nname = \"a\"\nurl = \"rtsp://x/\"\n[cameras.alerts]\nquiet_hours = \"late\"\n",
                "quiet_hours",
            ),
            (
                "[[cameras]]\nname = \"a\"\nurl = \"rtsp://x/\"\n[cameras.alerts]\nmqtt_commands = [\"reboot\"]\n",
                "mqtt_commands",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                e.contains("/etc/hearth.toml") && e.contains(key),
                "{text}: {e}"
            );
            assert!(!e.contains("pw@"), "{e}");
        }
    }
}
