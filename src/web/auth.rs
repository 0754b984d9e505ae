//! Authentication and authorization in one place: the [`Authed`] extractor
//! resolves the session cookie (expiry, revocation) and checks the CSRF token on
//! every state-changing request; [`CameraAccess`] adds the per-camera permission
//! that every footage route needs; [`Admin`] the admin role.

use super::error::WebError;
use super::state::{AppState, Inner};
use crate::security::audit_chain::Record;
use crate::security::session::{self, Limits};
use crate::security::token;
use crate::store::{EndReason, Role, SessionRow, StoreError, UserRow};
use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use std::net::SocketAddr;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session cookie's name: with TLS the `__Host-` prefix pins it to this host
/// and to HTTPS.
pub fn cookie_name(tls: bool) -> &'static str {
    if tls {
        "__Host-hearth_session"
    } else {
        "hearth_session"
    }
}

/// The cookie that carries a new session token.
pub fn session_cookie(tls: bool, token: &str, max_age_s: u64) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        cookie_name(tls),
        if tls { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(tls: bool) -> String {
    session_cookie(tls, "", 0)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client's address, for the audit log and rate limiting.
pub fn address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn is_page(parts: &Parts) -> bool {
    !parts.uri.path().starts_with("/api/")
}

/// The session limits the config sets.
pub fn limits(state: &Inner) -> Limits {
    let (idle, max) = state
        .running()
        .cfg
        .server
        .as_ref()
        .map_or((1800, 7 * 86400), |s| {
            (s.session_idle.as_secs(), s.session_max.as_secs())
        });
    Limits {
        idle_us: idle as i64 * 1_000_000,
        max_us: max as i64 * 1_000_000,
    }
}

/// A live session and its user, or why the session is no longer good (blocking).
/// `touch`: a request records the session as in use; a long-lived response
/// checking on its session does not.
pub fn lookup(
    s: &Inner,
    token_hash: &[u8],
    touch: bool,
) -> Result<Result<(SessionRow, UserRow), EndReason>, StoreError> {
    let Some(sess) = s.store.session(token_hash)? else {
        return Ok(Err(s.store.session_end(token_hash)?));
    };
    let (limits, now) = (limits(s), chrono::Utc::now().timestamp_micros());
    if let Some(reason) = session::expired(&sess, limits, now) {
        s.store.end_session(token_hash, reason)?;
        return Ok(Err(reason));
    }
    if touch && session::needs_touch(&sess, limits, now) {
        s.store.touch_session(token_hash, now)?;
    }
    Ok(match s.store.user_by_id(sess.user_id)? {
        Some(user) => Ok((sess, user)),
        None => Err(EndReason::UserRemoved),
    })
}

/// Whether `user` may see `camera`: it exists and the user is allowed it. The
/// one check behind [`CameraAccess`] and long-lived responses alike.
pub fn may_see(s: &Inner, user: &UserRow, camera: &str) -> bool {
    s.running().cfg.camera(camera).is_some() && user.may_view(camera)
}

/// A logged-in user with a live session.
#[derive(Clone, Debug)]
pub struct Authed {
    pub user: UserRow,
    pub token_hash: Vec<u8>,
    pub csrf: String,
    pub address: String,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if let Some(a) = parts.extensions.get::<Authed>() {
            return Ok(a.clone());
        }
        let unauth = WebError::Unauthenticated {
            page: is_page(parts),
        };
        let Some(tok) = cookie(&parts.headers, cookie_name(state.tls)) else {
            return Err(unauth);
        };
        if tok.is_empty() || tok.len() > 100 {
            return Err(unauth);
        }
        let hash = token::digest(tok);
        let h = hash.clone();
        let found = state.blocking(move |s| lookup(s, &h, true)).await??;
        let Ok((sess, user)) = found else {
            return Err(unauth);
        };
        // CSRF: every state-changing request carries the session's token in a header.
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !token::constant_time_eq(sent, sess.csrf.as_bytes()) {
                return Err(WebError::Forbidden("missing or wrong CSRF token".into()));
            }
        }
        let a = Authed {
            user,
            token_hash: hash,
            csrf: sess.csrf,
            address: address(parts),
        };
        parts.extensions.insert(a.clone());
        Ok(a)
    }
}

/// An admin with a live session.
pub struct Admin(pub Authed);

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let a = Authed::from_request_parts(parts, state).await?;
        if a.user.role != Role::Admin {
            return Err(WebError::Forbidden("only an admin may do this".into()));
        }
        Ok(Admin(a))
    }
}

/// A user allowed to see the camera named in the path (`{name}`). Cameras the
/// user may not see answer exactly as cameras that do not exist.
pub struct CameraAccess {
    pub authed: Authed,
    pub camera: String,
}

impl Authed {
    /// This user, from their address, as the author of an account change.
    pub fn actor(&self) -> crate::security::accounts::Actor<'_> {
        crate::security::accounts::Actor {
            user: &self.user.name,
            address: Some(&self.address),
        }
    }

    /// An audit record of `action` by this user from their address; the caller
    /// adds what else it knows.
    pub fn record(&self, action: &str) -> Record {
        Record {
            user: Some(self.user.name.clone()),
            address: Some(self.address.clone()),
            action: action.into(),
            ..Record::default()
        }
    }
}

impl CameraAccess {
    /// An audit record of `action` by this user on this camera.
    pub fn record(&self, action: &str) -> Record {
        Record {
            camera: Some(self.camera.clone()),
            ..self.authed.record(action)
        }
    }
}

impl FromRequestParts<AppState> for CameraAccess {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let authed = Authed::from_request_parts(parts, state).await?;
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|_| WebError::NotFound)?;
        let name = params.get("name").cloned().ok_or(WebError::NotFound)?;
        if !may_see(state, &authed.user, &name) {
            return Err(WebError::NotFound);
        }
        Ok(CameraAccess {
            authed,
            camera: name,
        })
    }
}
