//! The one same-origin check (pure) for every request that changes state and
//! every WebSocket upgrade: a browser names the page's origin, which must be this
//! server's. The server's authority is read the same way for HTTP/1.1 (the Host
//! header) and HTTP/2 (the `:authority` in the URI); when it cannot be told, or
//! the two disagree, the request is refused.

use axum::http::{HeaderMap, Method, Uri, header};

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The page that sent it is on another origin.
    CrossSite,
    /// The request does not say which host it was sent to, or says two.
    UnknownAuthority,
}

/// Whether a request must pass the check: anything but a plain read, and
/// WebSocket upgrades (which are GETs).
pub fn applies(method: &Method, headers: &HeaderMap) -> bool {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    upgrade || !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The host and port the request was sent to (lower case, port made explicit).
fn authority(uri: &Uri, headers: &HeaderMap, tls: bool) -> Result<(String, u16), Refused> {
    let from_uri = uri.authority().map(|a| a.as_str().to_owned());
    let hosts: Vec<&str> = headers
        .get_all(header::HOST)
        .iter()
        .map(|v| v.to_str().map_err(|_| Refused::UnknownAuthority))
        .collect::<Result<_, _>>()?;
    if hosts.len() > 1 {
        return Err(Refused::UnknownAuthority);
    }
    let text = match (from_uri, hosts.first()) {
        (Some(a), Some(h)) if !a.eq_ignore_ascii_case(h) => {
            return Err(Refused::UnknownAuthority);
        }
        (Some(a), _) => a,
        (None, Some(h)) => (*h).to_owned(),
        (None, None) => return Err(Refused::UnknownAuthority),
    };
    split_host_port(&text, if tls { 443 } else { 80 }).ok_or(Refused::UnknownAuthority)
}

/// `host[:port]` (an IPv6 host in brackets) into its parts.
fn split_host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    if s.is_empty() || s.contains(['@', '/', ' ']) {
        return None;
    }
    let (host, port) = match s.rfind(':') {
        Some(i) if !s[i..].contains(']') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

/// Passes a request from this server's own pages and from clients that are not
/// browsers (they send neither `Origin` nor `Sec-Fetch-Site`); refuses one from
/// another site's page, and one whose target cannot be told.
pub fn check(uri: &Uri, headers: &HeaderMap, tls: bool) -> Result<(), Refused> {
    let origin = headers.get(header::ORIGIN);
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let Some(origin) = origin else {
        // A browser that sends no Origin still says where the request came from.
        return match fetch_site {
            Some("same-origin") | Some("none") | None => Ok(()),
            Some(_) => Err(Refused::CrossSite),
        };
    };
    let origin = origin.to_str().map_err(|_| Refused::CrossSite)?;
    let scheme = if tls { "https://" } else { "http://" };
    let rest = origin.strip_prefix(scheme).ok_or(Refused::CrossSite)?;
    let from = split_host_port(rest, if tls { 443 } else { 80 }).ok_or(Refused::CrossSite)?;
    let to = authority(uri, headers, tls)?;
    if from != to {
        return Err(Refused::CrossSite);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, headers: &[(&str, &str)]) -> (Uri, HeaderMap) {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        (uri.parse().unwrap(), h)
    }

    fn c(uri: &str, headers: &[(&str, &str)], tls: bool) -> Result<(), Refused> {
        let (u, h) = req(uri, headers);
        check(&u, &h, tls)
    }

    #[test]
    fn http1_host_header() {
        let ok = [("host", "nvr.lan:8080"), ("origin", "http://nvr.lan:8080")];
        assert_eq!(c("/login", &ok, false), Ok(()));
        let evil = [("host", "nvr.lan:8080"), ("origin", "http://evil.example")];
        assert_eq!(c("/login", &evil, false), Err(Refused::CrossSite));
        // Default ports and case.
        let d = [("host", "NVR.lan"), ("origin", "https://nvr.lan:443")];
        assert_eq!(c("/login", &d, true), Ok(()));
        // Another scheme is another origin.
        let s = [("host", "nvr.lan"), ("origin", "http://nvr.lan")];
        assert_eq!(c("/login", &s, true), Err(Refused::CrossSite));
        let v6 = [
            ("host", "[fd00::1]:8443"),
            ("origin", "https://[fd00::1]:8443"),
        ];
        assert_eq!(c("/login", &v6, true), Ok(()));
        let port = [("host", "nvr.lan:8443"), ("origin", "https://nvr.lan:9443")];
        assert_eq!(c("/login", &port, true), Err(Refused::CrossSite));
    }

    #[test]
    fn http2_authority_in_the_uri() {
        let evil = [("origin", "https://evil.example")];
        assert_eq!(
            c("https://nvr.lan:8443/login", &evil, true),
            Err(Refused::CrossSite)
        );
        let ok = [("origin", "https://nvr.lan:8443")];
        assert_eq!(c("https://nvr.lan:8443/login", &ok, true), Ok(()));
        // Host and :authority that disagree: cannot tell.
        let two = [("host", "evil.example"), ("origin", "https://evil.example")];
        assert_eq!(
            c("https://nvr.lan:8443/login", &two, true),
            Err(Refused::UnknownAuthority)
        );
    }

    #[test]
    fn fails_closed_when_it_cannot_tell() {
        let none = [("origin", "http://nvr.lan")];
        assert_eq!(c("/login", &none, false), Err(Refused::UnknownAuthority));
        let null = [("host", "nvr.lan"), ("origin", "null")];
        assert_eq!(c("/login", &null, false), Err(Refused::CrossSite));
        let two = [
            ("host", "nvr.lan"),
            ("host", "evil"),
            ("origin", "http://nvr.lan"),
        ];
        assert_eq!(c("/login", &two, false), Err(Refused::UnknownAuthority));
        let cross = [("host", "nvr.lan"), ("sec-fetch-site", "cross-site")];
        assert_eq!(c("/login", &cross, false), Err(Refused::CrossSite));
        // Not a browser: nothing to check.
        assert_eq!(c("/login", &[("host", "nvr.lan")], false), Ok(()));
    }

    #[test]
    fn what_it_applies_to() {
        let (_, h) = req("/", &[]);
        assert!(!applies(&Method::GET, &h));
        assert!(applies(&Method::POST, &h));
        let (_, ws) = req("/", &[("upgrade", "websocket")]);
        assert!(applies(&Method::GET, &ws));
    }
}
