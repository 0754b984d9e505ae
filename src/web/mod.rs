//! The web server: routes, security headers, TLS, graceful shutdown.
//!
//! Every route is declared once in [`routes`] with the access it needs; the
//! router is built from that list and enforces that access itself (a handler
//! that forgot its extractor is still refused), and a test walks the same list
//! for every role. One same-origin check ([`origin`]) guards every request that
//! changes state and every WebSocket upgrade.

pub mod api;
pub mod audit_view;
pub mod auth;
pub mod camera_admin;
pub mod camera_discover;
pub mod camera_form;
pub mod camera_test;
pub mod conn_limit;
pub mod error;
pub mod events;
pub mod exports;
pub mod hls;
pub mod live;
pub mod live_still;
pub mod login;
pub mod login_link;
pub mod media;
pub mod metrics;
pub mod motion_preview;
pub mod origin;
pub mod pages;
pub mod plan_cache;
pub mod privacy_switch;
pub mod recorded_still;
pub mod recording_switch;
pub mod session_watch;
pub mod state;
pub mod system;
pub mod tls;
pub mod url_recipes;
pub mod users;
pub mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
pub use state::AppState;
use std::net::SocketAddr;
use tokio::sync::watch;

/// The largest request body taken (logins, settings; nothing uploads footage).
const BODY_LIMIT: usize = 16 * 1024;

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
    /// An admin, or a request from this machine with no session (a local
    /// Prometheus); any other user is refused.
    AdminOrLoopback,
}

/// Every route: method, path, access, handler.
#[rustfmt::skip]
pub fn routes() -> Vec<(Method, &'static str, Access, MethodRouter<AppState>)> {
    use Access::*;
    vec![
        (Method::GET,  "/healthz",                       Public, get(api::healthz)),
        (Method::GET,  "/metrics",                       AdminOrLoopback, get(metrics::metrics)),
        (Method::GET,  "/static/{file}",                 Public, get(static_file)),
        (Method::GET,  "/login",                         Public, get(pages::login_page)),
        (Method::POST, "/login",                         Public, post(login::form_login)),
        (Method::GET,  "/login/once/{token}",            Public, get(login_link::follow)),
        (Method::POST, "/api/login",                     Public, post(login::api_login)),
        (Method::POST, "/api/logout",                    User,   post(login::logout)),
        (Method::POST, "/api/account/password",          User,   post(login::change_password)),
        (Method::POST, "/api/account/totp/start",        User,   post(login::totp_start)),
        (Method::POST, "/api/account/totp/confirm",      User,   post(login::totp_confirm)),
        (Method::POST, "/api/account/totp/disable",      User,   post(login::totp_disable)),
        (Method::GET,  "/",                              User,   get(pages::index)),
        (Method::GET,  "/account",                       User,   get(pages::account)),
        (Method::GET,  "/audit",                         User,   get(audit_view::page)),
        (Method::GET,  "/cameras/{name}",                Camera, get(pages::camera)),
        (Method::GET,  "/api/cameras",                   User,   get(api::cameras)),
        (Method::GET,  "/api/cameras/{name}/recordings", Camera, get(api::recordings)),
        (Method::GET,  "/api/cameras/{name}/view.mp4",   Camera, get(media::view)),
        (Method::GET,  "/api/cameras/{name}/export.mp4", Camera, get(media::download)),
        (Method::GET,  "/api/cameras/{name}/live",       Camera, get(live::live)),
        (Method::GET,  "/api/cameras/{name}/live.jpg",   Camera, get(live_still::still)),
        (Method::GET,  "/api/cameras/{name}/live.m3u8",  Camera, get(hls::playlist)),
        (Method::GET,  "/api/cameras/{name}/hls/{stream}/{file}", Camera, get(hls::file)),
        (Method::GET,  "/api/cameras/{name}/still.jpg",  Camera, get(recorded_still::still)),
        (Method::GET,  "/api/cameras/{name}/range",      Camera, get(media::range_info)),
        (Method::GET,  "/api/cameras/{name}/events",     Camera, get(api::events)),
        (Method::GET,  "/api/cameras/{name}/activity",   Camera, get(api::activity)),
        (Method::GET,  "/api/cameras/{name}/events/{id}/snapshot.jpg", Camera, get(media::snapshot)),
        (Method::GET,  "/api/cameras/{name}/events/{id}/thumb.jpg",    Camera, get(media::thumbnail)),
        (Method::POST, "/api/cameras/{name}/privacy",    Camera, post(privacy_switch::camera)),
        (Method::POST, "/api/privacy/groups/{group}",    User,   post(privacy_switch::group)),
        (Method::GET,  "/views",                         User,   get(views::page)),
        (Method::GET,  "/api/views",                     User,   get(views::api)),
        (Method::GET,  "/events",                        User,   get(pages::events)),
        (Method::GET,  "/api/events",                    User,   get(events::api_list)),
        (Method::GET,  "/api/events/stream",             User,   get(events::stream)),
        (Method::POST, "/api/cameras/{name}/events/{id}/reviewed", Camera, post(events::review)),
        (Method::GET,  "/api/exports",                   User,   get(exports::list)),
        (Method::POST, "/api/cameras/{name}/exports",    Camera, post(exports::create)),
        (Method::GET,  "/api/cameras/{name}/exports/{id}/file", Camera, get(exports::file)),
        (Method::DELETE, "/api/cameras/{name}/exports/{id}",    Camera, delete(exports::delete)),
        (Method::GET,  "/system",                        Admin,  get(system::page)),
        (Method::GET,  "/api/system",                    Admin,  get(system::api)),
        (Method::GET,  "/api/storage",                   User,   get(api::storage)),
        (Method::GET,  "/api/audit",                     User,   get(audit_view::api)),
        (Method::POST, "/api/audit/verify",              Admin,  post(audit_view::verify)),
        (Method::GET,  "/users",                         Admin,  get(users::page)),
        (Method::GET,  "/api/users",                     Admin,  get(users::list)),
        (Method::POST, "/api/users",                     Admin,  post(users::add)),
        (Method::POST, "/api/users/{name}/permissions",  Admin,  post(users::permissions)),
        (Method::POST, "/api/users/{name}/password",     Admin,  post(users::password)),
        (Method::POST, "/api/users/{name}/totp/reset",   Admin,  post(users::totp_reset)),
        (Method::POST, "/api/users/{name}/sessions/{id}/end", Admin, post(users::end_session)),
        (Method::DELETE, "/api/users/{name}",            Admin,  delete(users::remove)),
        (Method::GET,  "/camera-settings",               Admin,  get(camera_admin::page)),
        (Method::GET,  "/api/admin/cameras",             Admin,  get(camera_admin::list)),
        (Method::POST, "/api/admin/cameras",             Admin,  post(camera_admin::add)),
        (Method::POST, "/api/admin/cameras/{name}",      Admin,  post(camera_admin::edit)),
        (Method::POST, "/api/admin/cameras/{name}/remove", Admin, post(camera_admin::remove)),
        (Method::POST, "/api/admin/camera-test",         Admin,  post(camera_test::test)),
        (Method::POST, "/api/admin/onvif/discover",      Admin,  post(camera_discover::discover)),
        (Method::POST, "/api/admin/onvif/streams",       Admin,  post(camera_discover::streams)),
        (Method::POST, "/api/admin/cameras/{name}/motion-preview", Admin, post(motion_preview::preview)),
        (Method::POST, "/api/admin/cameras/{name}/recording", Admin, post(recording_switch::switch)),
    ]
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    router_from(routes(), state)
}

/// A router for `table`: each route behind the access it declares.
fn router_from(
    table: Vec<(Method, &'static str, Access, MethodRouter<AppState>)>,
    state: AppState,
) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (_, path, access, mr) in table {
        let mr = match access {
            Access::Public => mr,
            _ => mr.route_layer(middleware::from_fn_with_state(
                state.clone(),
                move |st: State<AppState>, req: Request, next: Next| enforce(st, access, req, next),
            )),
        };
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(mr),
            None => by_path.push((path, mr)),
        }
    }
    let mut r = Router::new();
    for (path, mr) in by_path {
        r = r.route(path, mr);
    }
    let tls = state.tls;
    r.fallback(|| async { error::WebError::NotFound })
        .layer(middleware::from_fn_with_state(state.clone(), same_origin))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::map_response(move |r: Response| async move {
            security_headers(r, tls)
        }))
        .with_state(state)
}

/// Runs the extractor a route's access names before its handler; the handler's
/// own extractor finds the result in the request and does not look again.
async fn enforce(
    State(state): State<AppState>,
    access: Access,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let checked = match access {
        Access::Public => Ok(()),
        Access::User => auth::Authed::from_request_parts(&mut parts, &state)
            .await
            .map(drop),
        Access::Camera => auth::CameraAccess::from_request_parts(&mut parts, &state)
            .await
            .map(drop),
        Access::Admin => auth::Admin::from_request_parts(&mut parts, &state)
            .await
            .map(drop),
        Access::AdminOrLoopback => {
            let local = parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .is_some_and(|c| c.0.ip().is_loopback());
            match auth::Admin::from_request_parts(&mut parts, &state).await {
                Err(error::WebError::Unauthenticated { .. }) if local => Ok(()),
                r => r.map(drop),
            }
        }
    };
    match checked {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(e) => refuse(body, e).await,
    }
}

/// Answers a refused request after reading what it sent (bounded), so an HTTP/2
/// client gets the answer and not a reset stream.
async fn refuse(body: axum::body::Body, e: error::WebError) -> Response {
    let _ = axum::body::to_bytes(body, BODY_LIMIT).await;
    e.into_response()
}

/// Refuses a state-changing request or a WebSocket upgrade from another site.
async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if origin::applies(req.method(), req.headers()) {
        if let Err(why) = origin::check(req.uri(), req.headers(), state.tls) {
            let msg = match why {
                origin::Refused::CrossSite => "a request from another site's page is refused",
                origin::Refused::UnknownAuthority => {
                    "the request does not say which host it is for; refused"
                }
            };
            return refuse(req.into_body(), error::WebError::Forbidden(msg.into())).await;
        }
    }
    next.run(req).await
}

fn security_headers(mut resp: Response, tls: bool) -> Response {
    let h = resp.headers_mut();
    // Pages and API answers name footage and people: no cache keeps them.
    let kind = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if (kind.starts_with("text/html") || kind.starts_with("application/json"))
        && !h.contains_key(header::CACHE_CONTROL)
    {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
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
/// The pages' scripts and stylesheet, compiled in.
#[rustfmt::skip]
const STATIC: &[(&str, &str, &str)] = &[
    ("app.js",       include_str!("../../static/app.js"),       JS),
    ("audit.js",     include_str!("../../static/audit.js"),     JS),
    ("camera.js",    include_str!("../../static/camera.js"),    JS),
    ("events.js",    include_str!("../../static/events.js"),    JS),
    ("exports.js",   include_str!("../../static/exports.js"),   JS),
    ("localtime.js", include_str!("../../static/localtime.js"), JS),
    ("player.js",    include_str!("../../static/player.js"),    JS),
    ("timeline.js",  include_str!("../../static/timeline.js"),  JS),
    ("users.js",     include_str!("../../static/users.js"),     JS),
    ("camera_settings.js", include_str!("../../static/camera_settings.js"), JS),
    ("shapes.js",    include_str!("../../static/shapes.js"),    JS),
    ("wall.js",      include_str!("../../static/wall.js"),      JS),
    ("system.js",    include_str!("../../static/system.js"),    JS),
    ("style.css",    include_str!("../../static/style.css"),    "text/css; charset=utf-8"),
];
const JS: &str = "text/javascript; charset=utf-8";

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, body, kind)) => ([(header::CONTENT_TYPE, *kind)], *body).into_response(),
        None => error::WebError::NotFound.into_response(),
    }
}

/// A client has this long to send a request's head, and an idle keep-alive
/// connection is closed after it.
const HEADER_READ: std::time::Duration = std::time::Duration::from_secs(10);

fn timeouts(b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    use hyper_util::rt::TokioTimer;
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ);
    b.http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(std::time::Duration::from_secs(30)))
        .max_concurrent_streams(64);
}

/// Serves on a bound listener until `shutdown` turns true.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    tls: Option<(Vec<u8>, Vec<u8>)>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    // Refused logins are summed up in the audit log as their windows close.
    let st = state.clone();
    let summaries = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            every.tick().await;
            if let Err(e) = login::flush_refusals(&st, false).await {
                tracing::error!("cannot audit refused logins: {e:?}");
            }
        }
    });
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|&s| s).await;
        h.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let limits = conn_limit::LimitAcceptor::new(
        conn_limit::PER_ADDRESS,
        conn_limit::TOTAL,
        conn_limit::IDLE,
    );
    match tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let cfg = axum_server::tls_rustls::RustlsConfig::from_pem(cert, key)
                .await
                .map_err(|e| anyhow::anyhow!("the TLS certificate or key is unusable: {e}"))?;
            let mut server = axum_server::from_tcp_rustls(listener, cfg)
                .map(|tls| tls.acceptor(limits))
                .handle(handle);
            timeouts(server.http_builder());
            server.serve(app).await?;
        }
        None => {
            let mut server = axum_server::from_tcp(listener)
                .acceptor(limits)
                .handle(handle);
            timeouts(server.http_builder());
            server.serve(app).await?;
        }
    }
    summaries.abort();
    if let Err(e) = login::flush_refusals(&state, true).await {
        tracing::error!("cannot audit refused logins: {e:?}");
    }
    // The head as it stands at shutdown goes to the system log, apart from the data dir.
    match state.blocking(|s| s.audit.checkpoint()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!("cannot checkpoint the audit log: {e:#}"),
        Err(e) => tracing::error!("cannot checkpoint the audit log: {e:?}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// A route whose handler takes no extractor at all is still behind the access
    /// its table row declares.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handler_that_forgot_its_extractor_is_still_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg_path = dir.path().join("hearth.toml");
        let text = "[storage]\ndata_dir = \"data\"\n\n[[cameras]]\nname = \"front\"\n\
                    url = \"rtsp://127.0.0.1:1/x\"\n";
        let cfg = crate::config::Config::parse(text, &cfg_path).unwrap();
        std::fs::create_dir_all(&cfg.storage.data_dir).unwrap();
        let store =
            Arc::new(crate::store::Store::open(&cfg.storage.data_dir.join("hearth.db")).unwrap());
        let running = crate::web::state::Running {
            cfg,
            health: BTreeMap::new(),
            live: BTreeMap::new(),
            recording_off: BTreeMap::new(),
            private: BTreeMap::new(),
        };
        let (_publish, running) = tokio::sync::watch::channel(Arc::new(running));
        let footage = Arc::new(crate::footage::Footage::plain(
            &running.borrow().cfg.storage.data_dir,
            store,
        ));
        let signing =
            Arc::new(crate::export_proof::SigningKey::load_or_create(dir.path()).unwrap());
        let state = AppState::new(
            running,
            None,
            footage,
            signing,
            crate::motion::notices::channel(),
            None,
            false,
        );
        let secret = || async { "footage" };
        let table = vec![
            (Method::GET, "/open", Access::Public, get(secret)),
            (Method::GET, "/user", Access::User, get(secret)),
            (Method::GET, "/cam/{name}", Access::Camera, get(secret)),
            (Method::GET, "/admin", Access::Admin, get(secret)),
        ];
        let app = router_from(table, state).into_make_service_with_connect_info::<SocketAddr>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let statuses = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            ["/open", "/user", "/cam/front", "/admin"].map(|p| {
                agent
                    .get(format!("{base}{p}"))
                    .call()
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .await
        .unwrap();
        // Pages send strangers to the login page.
        assert_eq!(statuses, [200, 303, 303, 303]);
    }

    /// Every script a page or a module names (`/static/X`, `from "./X"`) is served.
    #[test]
    fn every_static_file_named_is_served() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut named = Vec::new();
        for dir in ["templates", "static"] {
            for f in std::fs::read_dir(root.join(dir)).unwrap() {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                for pat in ["/static/", "from \"./"] {
                    for (i, _) in text.match_indices(pat) {
                        let rest = &text[i + pat.len()..];
                        let end = rest.find(['"', '?']).unwrap_or(rest.len());
                        named.push(rest[..end].to_owned());
                    }
                }
            }
        }
        assert!(named.iter().any(|n| n == "events.js"), "{named:?}");
        for n in named.iter().filter(|n| !n.contains('{')) {
            assert!(
                STATIC.iter().any(|(name, _, _)| name == n),
                "{n} is named but not served"
            );
        }
    }
}
