//! The `[mqtt]` table: where Hearth tells the house what it sees (the broker,
//! its credentials, the topic layout, Home Assistant discovery). Parsed and
//! checked like the rest of the config, errors naming file, line and key.

use super::{ConfigError, Ctx, Secret};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMqtt {
    broker: Spanned<String>,
    username: Option<String>,
    password: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    topic_prefix: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    discovery: Option<bool>,
    discovery_prefix: Option<Spanned<String>>,
    #[serde(default)]
    allow_internet: bool,
    publish: Option<Spanned<Vec<String>>>,
}

/// What may be published, each on by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// `<prefix>/<camera>/motion` and its zones' ON/OFF.
    pub motion: bool,
    /// `<prefix>/<camera>/events`: each event's start, growth and end.
    pub events: bool,
    /// `<prefix>/<camera>/connected` and `…/health`.
    pub health: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mqtt {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The CA certificates (PEM) the broker's certificate must chain to, instead
    /// of the system's.
    pub ca_file: Option<PathBuf>,
    pub topic_prefix: String,
    pub client_id: String,
    /// Home Assistant discovery under `discovery_prefix`.
    pub discovery: bool,
    pub discovery_prefix: String,
    pub allow_internet: bool,
    pub publish: Publish,
}

/// A topic level of our own: no wildcard, no separator, not empty.
fn topic_level(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Ctx<'_> {
    pub(super) fn mqtt(&self, m: &RawMqtt, base: &Path) -> Result<Mqtt, ConfigError> {
        let at = m.broker.span().start;
        let url = url::Url::parse(m.broker.get_ref())
            .map_err(|e| self.err(at, "broker", &format!("not a valid URL: {e}")))?;
        let tls = match url.scheme() {
            "mqtt" => false,
            "mqtts" => true,
            _ => {
                return Err(self.err(
                    at,
                    "broker",
                    "the broker is mqtt://HOST:PORT or mqtts://HOST:PORT",
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| self.err(at, "broker", "the URL has no host"))?
            .to_owned();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(self.err(
                at,
                "broker",
                "put credentials in `username` and `password`, not in the URL",
            ));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(self.err(at, "broker", "the broker URL is only a host and a port"));
        }
        let password = self.secret("password", &m.password, &m.password_file, base)?;
        if password.is_some() && m.username.is_none() {
            return Err(self.err(at, "username", "a password needs a username"));
        }
        let level = |key: &str, v: &Option<Spanned<String>>, default: &str| match v {
            None => Ok(default.to_owned()),
            Some(s) if topic_level(s.get_ref()) => Ok(s.get_ref().clone()),
            Some(s) => Err(self.err(
                s.span().start,
                key,
                "1 to 64 letters, digits, '-' or '_' (one topic level, no wildcards)",
            )),
        };
        let topic_prefix = level("topic_prefix", &m.topic_prefix, "hearth")?;
        let client_id = level("client_id", &m.client_id, &topic_prefix)?;
        let mut publish = Publish {
            motion: true,
            events: true,
            health: true,
        };
        if let Some(p) = &m.publish {
            publish = Publish {
                motion: false,
                events: false,
                health: false,
            };
            for what in p.get_ref() {
                match what.as_str() {
                    "motion" => publish.motion = true,
                    "events" => publish.events = true,
                    "health" => publish.health = true,
                    _ => {
                        return Err(self.err(
                            p.span().start,
                            "publish",
                            "the things to publish are \"motion\", \"events\" and \"health\"",
                        ));
                    }
                }
            }
        }
        Ok(Mqtt {
            tls,
            port: url.port().unwrap_or(if tls { 8883 } else { 1883 }),
            host,
            username: m.username.clone(),
            password,
            ca_file: m.ca_file.as_ref().map(|f| base.join(f.get_ref())),
            topic_prefix,
            client_id,
            discovery: m.discovery.unwrap_or(true),
            discovery_prefix: level("discovery_prefix", &m.discovery_prefix, "homeassistant")?,
            allow_internet: m.allow_internet,
            publish,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    const BASE: &str = "[storage]\ndata_dir = \"d\"\n\n";

    fn parse(mqtt: &str) -> Result<Config, String> {
        Config::parse(
            &format!("{BASE}[mqtt]\n{mqtt}"),
            Path::new("/etc/hearth.toml"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_broker_and_its_defaults() {
        let m = parse("broker = \"mqtt://192.168.1.4\"\n")
            .unwrap()
            .mqtt
            .unwrap();
        assert_eq!(
            (m.tls, m.host.as_str(), m.port),
            (false, "192.168.1.4", 1883)
        );
        assert_eq!(
            (m.topic_prefix.as_str(), m.client_id.as_str()),
            ("hearth", "hearth")
        );
        assert!(m.discovery && m.publish.motion && m.publish.events && m.publish.health);
        let m = parse("broker = \"mqtts://ha.lan\"\nusername = \"u\"\npassword = \"p\"\ntopic_prefix = \"nvr\"\npublish = [\"motion\"]\n")
            .unwrap()
            .mqtt
            .unwrap();
        assert_eq!((m.tls, m.port, m.client_id.as_str()), (true, 8883, "nvr"));
        assert!(m.publish.motion && !m.publish.events);
    }

    #[test]
    fn mistakes_name_line_and_key() {
        for (text, key) in [
            ("broker = \"http://x\"\n", "broker"),
            ("broker = \"mqtt://u:secret@x\"\n", "broker"),
            (
                "broker = \"mqtt://x\"\ntopic_prefix = \"a/#\"\n",
                "topic_prefix",
            ),
            ("broker = \"mqtt://x\"\npassword = \"p\"\n", "username"),
            ("broker = \"mqtt://x\"\npublish = [\"video\"]\n", "publish"),
            ("brokr = \"mqtt://x\"\n", "brokr"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                e.contains("/etc/hearth.toml") && e.contains(key),
                "{text}: {e}"
            );
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
