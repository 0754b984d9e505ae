//! Long-lived responses (a live view, a download still streaming) tied to the
//! session they were opened on: they end within about a second of a logout, a
//! password change, a permission change, the user's removal or the session's
//! expiry, including changes made by the CLI in another process.

use super::auth::{Authed, lookup, may_see};
use super::state::{AppState, Inner};
use crate::store::EndReason;
use std::time::{Duration, Instant};

/// How often a long-lived response looks at its session again.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// What a long-lived response checks before it goes on.
#[derive(Clone)]
pub struct SessionWatch {
    token_hash: Vec<u8>,
    camera: Option<String>,
}

impl SessionWatch {
    /// Watches `authed`'s session and, when given, its permission for `camera`.
    pub fn new(authed: &Authed, camera: Option<&str>) -> SessionWatch {
        SessionWatch {
            token_hash: authed.token_hash.clone(),
            camera: camera.map(str::to_owned),
        }
    }

    /// `Err(why)` when the response must end (blocking). A failure to read the
    /// index ends it too: footage is not served unchecked.
    pub fn check(&self, s: &Inner) -> Result<(), EndReason> {
        match lookup(s, &self.token_hash, false) {
            Ok(Ok((_, user))) => match &self.camera {
                Some(c) if !may_see(s, &user, c) => Err(EndReason::PermissionsChanged),
                _ => Ok(()),
            },
            Ok(Err(why)) => Err(why),
            Err(e) => {
                tracing::error!("cannot check a session, ending its stream: {e}");
                Err(EndReason::Unknown)
            }
        }
    }

    /// Resolves when the response must end, with why.
    pub async fn ended(&self, state: &AppState) -> EndReason {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let w = self.clone();
            match state.blocking(move |s| w.check(s)).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => return why,
                Err(_) => return EndReason::Unknown,
            }
        }
    }
}

/// [`SessionWatch::check`] at most every [`CHECK_EVERY`], for a blocking loop.
/// The request that started the loop was just authorized, so the first look
/// comes a period later (a Range request costs no second session lookup).
pub struct Throttled {
    watch: SessionWatch,
    last: Instant,
}

impl Throttled {
    pub fn new(watch: SessionWatch) -> Throttled {
        Throttled {
            watch,
            last: Instant::now(),
        }
    }

    pub fn check(&mut self, s: &Inner) -> Result<(), EndReason> {
        if self.last.elapsed() < CHECK_EVERY {
            return Ok(());
        }
        self.last = Instant::now();
        self.watch.check(s)
    }
}
