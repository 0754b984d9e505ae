//! Camera sessions through the guard: the camera's host is resolved and checked
//! here, and retina gets the URL with the checked address in place of the name,
//! so it connects there and nowhere else. A [`CheckedUrl`] is made only here, and
//! a session is described only from one.

use super::{EgressError, Reach};
use retina::client::{Described, Session, SessionOptions};
use url::Url;

/// A camera URL whose host is an address the guard allowed.
#[derive(Clone, Debug)]
pub struct CheckedUrl(Url);

impl CheckedUrl {
    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// `url` with its host resolved and checked at `reach` (the first allowed address).
pub async fn check(url: &Url, reach: Reach) -> Result<CheckedUrl, EgressError> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port().unwrap_or(554);
    let addr = super::resolve(host, port, reach).await?[0];
    let mut at = url.clone();
    // An RTSP URL always has a host, so an address can take its place.
    let _ = at.set_ip_host(addr.ip());
    Ok(CheckedUrl(at))
}

/// DESCRIBE at a checked URL.
pub async fn describe(
    url: &CheckedUrl,
    opts: SessionOptions,
) -> Result<Session<Described>, retina::Error> {
    Session::describe(url.0.clone(), opts).await
}
