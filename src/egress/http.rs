//! HTTP clients through the guard (ONVIF devices, webhooks, push servers): a
//! ureq agent whose resolver is the guard's, so every address ureq connects to
//! was checked at the destination's reach. No proxy from the environment (it
//! would carry the request past the check), no redirect followed. Blocking: use
//! it off the async runtime.

use super::Reach;
use std::time::Duration;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// As many addresses as ureq keeps.
const MAX_ADDRS: usize = 16;

#[derive(Debug)]
struct Guarded(Reach);

impl Resolver for Guarded {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri
            .port_u16()
            .or_else(|| match uri.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            })
            .ok_or(ureq::Error::HostNotFound)?;
        let addrs = super::resolve_blocking(host, port, self.0)
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e.to_string())))?;
        let mut out = self.empty();
        for a in addrs.into_iter().take(MAX_ADDRS) {
            out.push(a);
        }
        Ok(out)
    }
}

/// A client made by [`agent`].
pub type Agent = ureq::Agent;

/// An agent for destinations at `reach`, each request at most `timeout`; statuses
/// are answers, not errors.
pub fn agent(reach: Reach, timeout: Duration) -> Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(timeout))
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::new(), Guarded(reach))
}

/// Sends one request with a body (POST or PUT) through `agent`: the status, or
/// why no answer came. Blocking.
pub fn send(
    agent: &Agent,
    method: &str,
    url: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> Result<u16, String> {
    let mut req = match method {
        "PUT" => agent.put(url),
        _ => agent.post(url),
    };
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    req.send(body)
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}
