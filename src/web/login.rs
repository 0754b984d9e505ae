//! Logging in and out. Failures say the same thing whether the name exists or not,
//! take the same time (a dummy verification), and are rate-limited per address
//! and per name. Every attempt is audited.

use super::auth::{self, Authed};
use super::error::WebError;
use super::state::AppState;
use crate::security::audit_chain::{Record, action};
use crate::security::{password, token, totp};
use crate::store::EndReason;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use std::net::SocketAddr;

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

/// A session for good credentials: (cookie value, CSRF token).
async fn login(
    state: &AppState,
    addr: String,
    c: Credentials,
) -> Result<(String, String, String), WebError> {
    // Names are echoed to the audit log only in a bounded, printable form.
    let name: String = c
        .username
        .chars()
        .filter(|ch| !ch.is_control())
        .take(64)
        .collect();
    let keys = [format!("ip:{addr}"), format!("user:{name}")];
    let now = chrono::Utc::now().timestamp_micros();
    let blocked = {
        let mut l = state.limiter.lock().unwrap_or_else(|p| p.into_inner());
        l.blocked(&[&keys[0], &keys[1]], now)
    };
    let fail = |detail: &str| Record {
        user: Some(name.clone()),
        address: Some(addr.clone()),
        action: action::LOGIN_FAILED.into(),
        detail: Some(detail.into()),
        ..Record::default()
    };
    if let Some(secs) = blocked {
        state.audit(fail("rate limited")).await?;
        return Err(WebError::TooMany(format!(
            "Too many failed logins. Try again in {} minutes.",
            (secs + 59) / 60
        )));
    }
    let (n, pw, code) = (name.clone(), c.password, c.code);
    // A wrong password, a missing or wrong code: one answer, so neither is revealed.
    type Found = Option<(crate::store::UserRow, &'static str)>;
    let user = state
        .blocking(move |s| -> Result<Found, WebError> {
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
        .await??;
    let Some((user, how)) = user else {
        {
            let mut l = state.limiter.lock().unwrap_or_else(|p| p.into_inner());
            l.failed(&[&keys[0], &keys[1]], now);
        }
        state
            .audit(fail("wrong user name, password or code"))
            .await?;
        return Err(WebError::Unauthenticated { page: false });
    };
    state
        .limiter
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .succeeded(&keys[1]);
    let tok = token::random_token();
    let csrf = token::random_token();
    let (h, cs, a, id) = (token::digest(&tok), csrf.clone(), addr.clone(), user.id);
    state
        .blocking(move |s| s.store.add_session(&h, id, &cs, now, &a))
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
    Ok((tok, csrf, user.name))
}

fn max_age(state: &AppState) -> u64 {
    state
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
    let (tok, csrf, user) = match login(&state, peer.ip().to_string(), c).await {
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
    match login(&state, peer.ip().to_string(), c).await {
        Ok((tok, _, _)) => Ok((
            StatusCode::SEE_OTHER,
            [
                (
                    "set-cookie",
                    auth::session_cookie(state.tls, &tok, max_age(&state)),
                ),
                ("location", "/".to_owned()),
            ],
        )
            .into_response()),
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

/// `POST /api/account/password`: changes the caller's password; every session of
/// the user ends, this one included.
pub async fn change_password(
    State(state): State<AppState>,
    a: Authed,
    Json(p): Json<PasswordChange>,
) -> Result<Response, WebError> {
    password::check_new(&p.new).map_err(WebError::BadRequest)?;
    let (user, addr) = (a.user.clone(), a.address.clone());
    state
        .blocking(move |s| -> Result<(), WebError> {
            if !password::verify(&p.current, &user.password_hash) {
                return Err(WebError::Forbidden("the current password is wrong".into()));
            }
            let accounts = crate::security::accounts::Accounts {
                store: &s.store,
                audit: &s.audit,
                cameras: Vec::new(),
            };
            let by = crate::security::accounts::Actor {
                user: &user.name,
                address: Some(&addr),
            };
            accounts
                .set_password(&by, &user.name, &p.new)
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
pub struct CodeBody {
    pub code: String,
}

/// `POST /api/account/totp/confirm`: a code from the app turns the second factor on;
/// the answer carries the recovery codes, shown this once.
pub async fn totp_confirm(
    State(state): State<AppState>,
    a: Authed,
    Json(b): Json<CodeBody>,
) -> Result<Json<serde_json::Value>, WebError> {
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
    let (id, hash) = (a.user.id, a.user.password_hash.clone());
    state
        .blocking(move |s| -> Result<(), WebError> {
            if !password::verify(&b.password, &hash) {
                return Err(WebError::Forbidden("the password is wrong".into()));
            }
            Ok(s.store.disable_totp(id)?)
        })
        .await??;
    state.audit(a.record(action::TOTP_DISABLED)).await?;
    Ok(Json(serde_json::json!({ "ok": true })))
}
