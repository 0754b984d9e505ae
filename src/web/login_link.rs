//! `GET /login/once/{token}`: a one-time login link made on the server's own
//! machine (`hearth demo` prints one for its first admin). It is taken only from
//! loopback, only once and only in its time, and opens a session as a password
//! login does; a link that is unknown, used or expired is refused like a wrong
//! password.

use super::error::WebError;
use super::login::{open_session, session_response};
use super::state::AppState;
use crate::security::token;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

pub async fn follow(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(link): Path<String>,
) -> Result<Response, WebError> {
    let ip = peer.ip().to_canonical();
    if !ip.is_loopback() {
        return Err(WebError::Forbidden(
            "one-time login links work only on the machine running Hearth".into(),
        ));
    }
    let (h, now) = (token::digest(&link), chrono::Utc::now().timestamp_micros());
    let user = state
        .blocking(move |s| -> Result<_, WebError> {
            match s.store.take_login_link(&h, now)? {
                Some(id) => Ok(s.store.user_by_id(id)?),
                None => Ok(None),
            }
        })
        .await??;
    let Some(user) = user else {
        super::login::refused(
            &state,
            &ip.to_string(),
            "",
            "one-time link unknown, used or expired",
        )
        .await?;
        return Ok((
            StatusCode::UNAUTHORIZED,
            super::pages::LoginPage::with_error(
                "This login link was used already or has expired. Log in with the password instead.",
            ),
        )
            .into_response());
    };
    let (tok, _) = open_session(&state, &user, ip, "with a one-time link").await?;
    Ok(session_response(&state, &tok))
}
