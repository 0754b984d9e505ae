//! The web server: routes, security headers, TLS, graceful shutdown.
//!
//! Every route is declared once in [`routes`] with the access it needs; the
//! router is built from that list, and a test walks the same list for every role.

pub mod api;
pub mod auth;
pub mod error;
pub mod live;
pub mod login;
pub mod media;
pub mod pages;
pub mod state;
pub mod tls;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
pub use state::AppState;
use std::net::SocketAddr;
use tokio::sync::watch;

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: login, static assets, the health check.
    Public,
    /// Any logged-in user.
    User,
    /// A user allowed to see the camera in the path.
    Camera,
    /// An admin.
    Admin,
}

/// Every route: method, path, access, handler.
#[rustfmt::skip]
pub fn routes() -> Vec<(Method, &'static str, Access, MethodRouter<AppState>)> {
    use Access::*;
    vec![
        (Method::GET,  "/healthz",                       Public, get(api::healthz)),
        (Method::GET,  "/static/{file}",                 Public, get(static_file)),
        (Method::GET,  "/login",                         Public, get(pages::login_page)),
        (Method::POST, "/login",                         Public, post(login::form_login)),
        (Method::POST, "/api/login",                     Public, post(login::api_login)),
        (Method::POST, "/api/logout",                    User,   post(login::logout)),
        (Method::POST, "/api/account/password",          User,   post(login::change_password)),
        (Method::POST, "/api/account/totp/start",        User,   post(login::totp_start)),
        (Method::POST, "/api/account/totp/confirm",      User,   post(login::totp_confirm)),
        (Method::POST, "/api/account/totp/disable",      User,   post(login::totp_disable)),
        (Method::GET,  "/",                              User,   get(pages::index)),
        (Method::GET,  "/account",                       User,   get(pages::account)),
        (Method::GET,  "/audit",                         User,   get(pages::audit)),
        (Method::GET,  "/cameras/{name}",                Camera, get(pages::camera)),
        (Method::GET,  "/api/cameras",                   User,   get(api::cameras)),
        (Method::GET,  "/api/cameras/{name}/recordings", Camera, get(api::recordings)),
        (Method::GET,  "/api/cameras/{name}/view.mp4",   Camera, get(media::view)),
        (Method::GET,  "/api/cameras/{name}/export.mp4", Camera, get(media::download)),
        (Method::GET,  "/api/cameras/{name}/live",       Camera, get(live::live)),
        (Method::GET,  "/api/cameras/{name}/events",     Camera, get(api::events)),
        (Method::GET,  "/api/cameras/{name}/activity",   Camera, get(api::activity)),
        (Method::GET,  "/api/cameras/{name}/events/{id}/snapshot.jpg", Camera, get(media::snapshot)),
        (Method::GET,  "/api/cameras/{name}/events/{id}/thumb.jpg",    Camera, get(media::thumbnail)),
        (Method::GET,  "/api/storage",                   User,   get(api::storage)),
        (Method::GET,  "/api/audit",                     User,   get(api::audit)),
        (Method::GET,  "/api/users",                     Admin,  get(api::users)),
    ]
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (_, path, _, mr) in routes() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(mr),
            None => by_path.push((path, mr)),
        }
    }
    let mut r = Router::new();
    for (path, mr) in by_path {
        r = r.route(path, mr);
    }
    r.fallback(|| async { error::WebError::NotFound })
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; object-src 'none'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// Static assets are compiled in: no path from a request ever reaches the disk.
async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static str, &str) = match file.as_str() {
        "app.js" => (
            include_str!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "style.css" => (
            include_str!("../../static/style.css"),
            "text/css; charset=utf-8",
        ),
        _ => return error::WebError::NotFound.into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Serves on a bound listener until `shutdown` turns true.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    tls: Option<(Vec<u8>, Vec<u8>)>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|&s| s).await;
        h.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    match tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let cfg = axum_server::tls_rustls::RustlsConfig::from_pem(cert, key)
                .await
                .map_err(|e| anyhow::anyhow!("the TLS certificate or key is unusable: {e}"))?;
            axum_server::from_tcp_rustls(listener, cfg)
                .handle(handle)
                .serve(app)
                .await?;
        }
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(app)
                .await?;
        }
    }
    Ok(())
}
