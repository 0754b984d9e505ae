//! Logging in and out, and the account changes that need the password again.
//! Failures say the same thing whether the name exists or not, take the same time
//! (a dummy verification), and are rate-limited per address and per name. Every
//! login is audited; refused ones coalesced per address and name and window.

use super::auth::{self, Authed};
use super::error::WebError;
use super::state::AppState;
use crate::security::audit_chain::{Record, action};
use crate::security::ratelimit::address_key;
use crate::security::{password, token, totp};
use crate::store::EndReason;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};

#[derive(Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// A one-time code or a recovery code, for users with the second factor on.
    #[serde(default)]
    pub code: Option<String>,
}

/// Checks the second factor of a user who has one: a current code (good once) or
/// an unspent recovery code. `Ok(Some(detail))` when it passed.
fn second_factor(
    s: &super::state::Inner,
    user: &crate::store::UserRow,
    code: Option<&str>,
) -> Result<Option<&'static str>, WebError> {
    let Some(secret) = &user.totp_secret else {
        return Ok(Some(""));
    };
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let now = chrono::Utc::now().timestamp();
        return Ok(match totp::check(secret, code, now, user.totp_last_step) {
            Some(step) if s.store.use_totp_step(user.id, step)? => Some(""),
            _ => None,
        });
    }
    let h = token::digest(&code.to_lowercase());
    Ok(s.store
        .use_recovery_code(user.id, &h)?
        .then_some("with a recovery code"))
}

/// Writes a refused login to the audit log, or counts it for the summary of
/// its window (see [`crate::security::refusals`]); writes summaries now due.
pub(super) async fn refused(
    state: &AppState,
    addr: &str,
    name: &str,
    detail: &str,
) -> Result<(), WebError> {
    state
        .logins_refused
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = chrono::Utc::now().timestamp_micros();
    let (due, write) = {
        let mut r = state.refusals.lock().unwrap_or_else(|p| p.into_inner());
        (r.due(now, false), r.note(addr, name, now))
    };
    write_summaries(state, due).await?;
    if let Some((address, user)) = write {
        state
            .audit(Record {
                user: Some(user),
                address: Some(address),
                action: action::LOGIN_FAILED.into(),
                detail: Some(detail.into()),
                ..Record::default()
            })
            .await?;
    }
    Ok(())
}

async fn write_summaries(
    state: &AppState,
    due: Vec<crate::security::refusals::Summary>,
) -> Result<(), WebError> {
    for s in due {
        state
            .audit(Record {
                user: Some(s.name),
                address: Some(s.address),
                action: action::LOGIN_FAILED.into(),
                from_us: Some(s.first_us),
                to_us: Some(s.last_us),
                detail: Some(format!("{} more refused logins", s.more)),
                ..Record::default()
            })
            .await?;
    }
    Ok(())
}

/// Writes the summaries of refused logins whose window closed (all of them with
/// `all`, at shutdown).
pub async fn flush_refusals(state: &AppState, all: bool) -> Result<(), WebError> {
    let now = chrono::Utc::now().timestamp_micros();
    let due = state
        .refusals
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .due(now, all);
    write_summaries(state, due).await
}

/// A password check limited by `keys`: the attempt is counted against them
/// before the check runs (so parallel guesses cannot outrun the limit), at most
/// [`super::state::VERIFICATIONS`] checks run at once, and a check that passed
/// (`Some`) is given back. `Err(seconds to wait)` when a key is at its limit.
async fn limited_check<T: Send + 'static>(
    state: &AppState,
    keys: &[&str],
    forget_on_success: &str,
    check: impl FnOnce(&super::state::Inner) -> Result<Option<T>, WebError> + Send + 'static,
) -> Result<Result<Option<T>, i64>, WebError> {
    let now = chrono::Utc::now().timestamp_micros();
    let reserved = state
        .limiter
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .reserve(keys, now);
    if let Err(secs) = reserved {
        return Ok(Err(secs));
    }
    let found = {
        let _turn = state
            .verifications
            .acquire()
            .await
            .map_err(|_| WebError::Internal("shutting down".into()))?;
        state.blocking(check).await??
    };
    if found.is_some() {
        state
            .limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .succeeded(keys, now, forget_on_success);
    }
    Ok(Ok(found))
}

fn wait_message(what: &str, secs: i64) -> String {
    format!(
        "Too many {what}. Try again in {} minutes.",
        (secs + 59) / 60
    )
}

/// A session for good credentials: (cookie value, CSRF token, user name).
///
/// The attempt is counted against the address and the name before the password
/// is checked (so parallel guesses cannot outrun the limit), and at most
/// [`super::state::VERIFICATIONS`] checks run at once. The per-name limit does
/// not apply from an address the user has logged in from before, so a stranger
/// guessing at a name cannot lock its owner out there.
async fn login(
    state: &AppState,
    peer: IpAddr,
    c: Credentials,
) -> Result<(String, String, String), WebError> {
    // Names are echoed to the audit log only in a bounded, printable form.
    let name: String = c
        .username
        .chars()
        .filter(|ch| !ch.is_control())
        .take(64)
        .collect();
    let addr = peer.to_string();
    let addr_key = address_key(peer);
    let (n, k) = (name.clone(), addr_key.clone());
    let known = state
        .blocking(move |s| s.store.known_login_address(&n, &k))
        .await??;
    let ip_key = format!("ip:{addr_key}");
    let name_key = format!("user:{name}");
    let keys: Vec<&str> = if known {
        vec![&ip_key]
    } else {
        vec![&ip_key, &name_key]
    };
    let (n, pw, code) = (name.clone(), c.password, c.code);
    // A wrong password, a missing or wrong code: one answer, so neither is revealed.
    let found = limited_check(state, &keys, &name_key, move |s| {
        match s.store.user_by_name(&n)? {
            Some(u) if password::verify(&pw, &u.password_hash) => {
                Ok(second_factor(s, &u, code.as_deref())?.map(|d| (u, d)))
            }
            Some(_) => Ok(None),
            None => {
                password::verify_dummy(&pw);
                Ok(None)
            }
        }
    })
    .await?;
    let (user, how) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            refused(state, &addr, &name, "wrong user name, password or code").await?;
            return Err(WebError::Unauthenticated { page: false });
        }
        Err(secs) => {
            refused(state, &addr, &name, "rate limited").await?;
            return Err(WebError::TooMany(wait_message("failed logins", secs)));
        }
    };
    let (tok, csrf) = open_session(state, &user, peer, how).await?;
    Ok((tok, csrf, user.name))
}

/// A new session for `user`, who logged in from `peer` (`how`: said in the
/// audit entry when not empty): (cookie value, CSRF token).
pub(super) async fn open_session(
    state: &AppState,
    user: &crate::store::UserRow,
    peer: IpAddr,
    how: &str,
) -> Result<(String, String), WebError> {
    let now = chrono::Utc::now().timestamp_micros();
    let tok = token::random_token();
    let csrf = token::random_token();
    let addr = peer.to_string();
    let addr_key = address_key(peer);
    let (h, cs, a, id) = (token::digest(&tok), csrf.clone(), addr.clone(), user.id);
    state
        .blocking(move |s| -> Result<(), WebError> {
            s.store.add_session(&h, id, &cs, now, &a)?;
            Ok(s.store.remember_login_address(id, &addr_key, now)?)
        })
        .await??;
    state
        .audit(Record {
            user: Some(user.name.clone()),
            address: Some(addr),
            action: action::LOGIN.into(),
            detail: (!how.is_empty()).then(|| how.to_owned()),
            ..Record::default()
        })
        .await?;
    Ok((tok, csrf))
}

/// The answer to a page login: the session cookie, and on to the live wall.
pub(super) fn session_response(state: &AppState, tok: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (
                "set-cookie",
                auth::session_cookie(state.tls, tok, max_age(state)),
            ),
            ("location", "/".to_owned()),
        ],
    )
        .into_response()
}

fn max_age(state: &AppState) -> u64 {
    state
        .running()
        .cfg
        .server
        .as_ref()
        .map_or(86400, |s| s.session_max.as_secs())
}

/// `POST /api/login` with JSON `{"username", "password"}`.
pub async fn api_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(c): Json<Credentials>,
) -> Result<Response, WebError> {
    let (tok, csrf, user) = match login(&state, peer.ip(), c).await {
        Err(WebError::Unauthenticated { .. }) => {
            return Ok((
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({ "error": "wrong user name, password or code" })),
            )
                .into_response());
        }
        r => r?,
    };
    Ok((
        [(
            "set-cookie",
            auth::session_cookie(state.tls, &tok, max_age(&state)),
        )],
        Json(serde_json::json!({ "user": user, "csrf_token": csrf })),
    )
        .into_response())
}

/// `POST /login` from the login page's form.
pub async fn form_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(c): Form<Credentials>,
) -> Result<Response, WebError> {
    match login(&state, peer.ip(), c).await {
        Ok((tok, _, _)) => Ok(session_response(&state, &tok)),
        Err(WebError::Unauthenticated { .. }) => Ok((
            StatusCode::UNAUTHORIZED,
            super::pages::LoginPage::with_error("Wrong user name, password or one-time code."),
        )
            .into_response()),
        Err(WebError::TooMany(m)) => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            super::pages::LoginPage::with_error(&m),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

/// `POST /api/logout`: ends this session.
pub async fn logout(State(state): State<AppState>, a: Authed) -> Result<Response, WebError> {
    let h = a.token_hash.clone();
    state
        .blocking(move |s| s.store.end_session(&h, EndReason::LoggedOut))
        .await??;
    state.audit(a.record(action::LOGOUT)).await?;
    Ok((
        [("set-cookie", auth::clear_cookie(state.tls))],
        Json(serde_json::json!({ "ok": true })),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// Checks a logged-in user's password again before a change to the account,
/// limited like a login (the attempt counts before argon2 runs) so a stolen
/// session cannot guess it. Counted per user, apart from logins, so a user's own
/// typos do not lock their address out of logging in.
async fn reauth(state: &AppState, a: &Authed, pw: String) -> Result<(), WebError> {
    let key = format!("reauth:{}", a.user.id);
    let hash = a.user.password_hash.clone();
    let good = limited_check(state, &[&key], &key, move |_| {
        Ok(password::verify(&pw, &hash).then_some(()))
    })
    .await?;
    match good {
        Ok(Some(())) => Ok(()),
        Ok(None) => {
            refused(
                state,
                &a.address,
                &a.user.name,
                "wrong password for an account change",
            )
            .await?;
            Err(WebError::Forbidden("the password is wrong".into()))
        }
        Err(secs) => Err(WebError::TooMany(wait_message("wrong passwords", secs))),
    }
}

/// `POST /api/account/password`: changes the caller's password; every session of
/// the user ends, this one included.
pub async fn change_password(
    State(state): State<AppState>,
    a: Authed,
    Json(p): Json<PasswordChange>,
) -> Result<Response, WebError> {
    password::check_new(&p.new).map_err(WebError::BadRequest)?;
    reauth(&state, &a, p.current).await?;
    let me = a.clone();
    state
        .blocking(move |s| {
            s.accounts()
                .set_password(&me.actor(), &me.user.name, &p.new)
                .map_err(|e| WebError::BadRequest(e.to_string()))
        })
        .await??;
    Ok((
        [("set-cookie", auth::clear_cookie(state.tls))],
        Json(serde_json::json!({ "ok": true })),
    )
        .into_response())
}

/// `POST /api/account/totp/start`: a new secret to scan, kept pending until confirmed.
pub async fn totp_start(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<serde_json::Value>, WebError> {
    let secret = totp::new_secret();
    let uri = totp::uri(&secret, &a.user.name);
    let qr =
        totp::qr_svg(&uri).ok_or_else(|| WebError::Internal("cannot draw the QR code".into()))?;
    let (id, s2) = (a.user.id, secret.clone());
    state
        .blocking(move |s| s.store.set_totp_pending(id, &s2))
        .await??;
    Ok(Json(
        serde_json::json!({ "secret": secret, "uri": uri, "qr_svg": qr }),
    ))
}

#[derive(Deserialize)]
pub struct ConfirmBody {
    pub code: String,
    /// The current password: a session alone may not set or replace the factor.
    pub password: String,
}

/// `POST /api/account/totp/confirm`: the password and a code from the app turn
/// the second factor on (or replace it); the answer carries the recovery codes,
/// shown this once.
pub async fn totp_confirm(
    State(state): State<AppState>,
    a: Authed,
    Json(b): Json<ConfirmBody>,
) -> Result<Json<serde_json::Value>, WebError> {
    reauth(&state, &a, b.password).await?;
    let Some(secret) = a.user.totp_pending.clone() else {
        return Err(WebError::BadRequest("start the set-up first".into()));
    };
    let now = chrono::Utc::now().timestamp();
    let step = totp::check(&secret, &b.code, now, None).ok_or_else(|| {
        WebError::BadRequest("that code is not right; check the phone's clock".into())
    })?;
    let codes = totp::recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| token::digest(c)).collect();
    let id = a.user.id;
    state
        .blocking(move |s| s.store.enable_totp(id, &secret, step, &hashes))
        .await??;
    state.audit(a.record(action::TOTP_ENABLED)).await?;
    Ok(Json(serde_json::json!({ "recovery_codes": codes })))
}

#[derive(Deserialize)]
pub struct PasswordBody {
    pub password: String,
}

/// `POST /api/account/totp/disable`: with the password, turns the second factor off.
pub async fn totp_disable(
    State(state): State<AppState>,
    a: Authed,
    Json(b): Json<PasswordBody>,
) -> Result<Json<serde_json::Value>, WebError> {
    reauth(&state, &a, b.password).await?;
    let id = a.user.id;
    state.blocking(move |s| s.store.disable_totp(id)).await??;
    state.audit(a.record(action::TOTP_DISABLED)).await?;
    Ok(Json(serde_json::json!({ "ok": true })))
}
