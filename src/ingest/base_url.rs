//! Where a camera's DESCRIBE answer sends the rest of the session (pure). retina
//! takes the base URL from the camera's `Content-Base` and on some teardown paths
//! opens new connections there with the credentials it negotiated, so a camera
//! that names another host could send Hearth, and its password, elsewhere. Every
//! stream's control URL must be on the configured host and port. Sessions connect
//! to the address `egress` checked; a control URL that names the camera by its
//! configured name instead is accepted but counted as unseen, so retina opens no
//! new connection that would resolve the name again.

use url::Url;

/// What the control URLs of the streams to be set up showed.
#[derive(Debug, PartialEq, Eq)]
pub enum Controls {
    /// All on the configured host and port.
    Ours,
    /// A stream has none: its requests go to the base URL, which cannot be seen,
    /// so the session must not open new connections (no teardown on a new one).
    Unseen,
}

fn same_host(a: &Url, b: &Url) -> bool {
    let port = |u: &Url| u.port().unwrap_or(554);
    a.scheme() == b.scheme()
        && a.host_str()
            .zip(b.host_str())
            .is_some_and(|(x, y)| x.eq_ignore_ascii_case(y))
        && port(a) == port(b)
}

/// `Err(the foreign host)` when a control URL points elsewhere than `connected`
/// (the checked address) or `configured` (the name in the config).
pub fn check(
    connected: &Url,
    configured: &Url,
    controls: &[Option<&Url>],
) -> Result<Controls, String> {
    let mut seen = Controls::Ours;
    for c in controls {
        match c {
            Some(u) if same_host(connected, u) => {}
            Some(u) if same_host(configured, u) => seen = Controls::Unseen,
            Some(u) => {
                return Err(format!(
                    "{}:{}",
                    u.host_str().unwrap_or("?"),
                    u.port().unwrap_or(554)
                ));
            }
            None => seen = Controls::Unseen,
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn control_urls_must_stay_on_the_configured_host() {
        let cam = u("rtsp://192.168.1.20/Streaming/101");
        let ok = u("rtsp://192.168.1.20:554/Streaming/101/trackID=1");
        assert_eq!(check(&cam, &cam, &[Some(&ok)]), Ok(Controls::Ours));
        assert_eq!(check(&cam, &cam, &[Some(&ok), None]), Ok(Controls::Unseen));
        let evil = u("rtsp://evil.example:8554/x");
        assert_eq!(
            check(&cam, &cam, &[Some(&ok), Some(&evil)]),
            Err("evil.example:8554".into())
        );
        let other_port = u("rtsp://192.168.1.20:8554/x");
        assert!(check(&cam, &cam, &[Some(&other_port)]).is_err());
        let case = u("rtsp://CAM.lan/x");
        let named = u("rtsp://cam.lan/y");
        assert!(check(&named, &named, &[Some(&case)]).is_ok());
        // Connected by address: the name is accepted, but no new connection to it.
        assert_eq!(check(&ok, &named, &[Some(&case)]), Ok(Controls::Unseen));
        assert_eq!(check(&ok, &named, &[Some(&ok)]), Ok(Controls::Ours));
    }
}
