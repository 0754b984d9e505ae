//! Errors as HTTP answers: a status and a message a user can act on, never an
//! internal detail (those go to the log).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub enum WebError {
    /// No valid session: the API answers 401, pages redirect to the login page.
    Unauthenticated {
        page: bool,
    },
    Forbidden(String),
    NotFound,
    BadRequest(String),
    /// The thing changed since the client read it.
    Conflict(String),
    TooMany(String),
    /// Not enough disk space for what was asked.
    NoSpace(String),
    /// Not now: the camera has sent nothing yet.
    Unavailable(String),
    Internal(String),
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            WebError::Unauthenticated { page: true } => {
                return (StatusCode::SEE_OTHER, [("location", "/login")]).into_response();
            }
            WebError::Unauthenticated { page: false } => {
                (StatusCode::UNAUTHORIZED, "log in first".to_owned())
            }
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            WebError::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned()),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            WebError::Conflict(m) => (StatusCode::CONFLICT, m),
            WebError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, m),
            WebError::NoSpace(m) => (StatusCode::INSUFFICIENT_STORAGE, m),
            WebError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            WebError::Internal(m) => {
                tracing::error!("web: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the server log".to_owned(),
                )
            }
        };
        (status, axum::Json(serde_json::json!({ "error": msg }))).into_response()
    }
}
