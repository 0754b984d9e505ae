//! User administration in the browser (admins only): the users page, and the
//! API behind it to add a user, change a role and cameras, set a new password,
//! turn a second factor off, remove a user and end one of their sessions. Every
//! change goes through `security::accounts`, which audits it; the route table
//! makes each route admin-only and CSRF-checked.

use super::api::rfc3339;
use super::auth::Admin;
use super::error::WebError;
use super::pages::Nav;
use super::state::AppState;
use crate::security::accounts::AccountError;
use crate::store::Role;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

impl From<AccountError> for WebError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NoSuchUser(_) | AccountError::NoSuchSession(_) => WebError::NotFound,
            AccountError::Invalid(m) => WebError::BadRequest(m),
            AccountError::Exists(_) => WebError::BadRequest(e.to_string()),
            e => WebError::Internal(e.to_string()),
        }
    }
}

/// A user as the admin sees them.
#[derive(Serialize)]
pub struct UserView {
    pub name: String,
    pub role: &'static str,
    pub cameras: Vec<String>,
    pub second_factor: bool,
    pub sessions: Vec<SessionView>,
}

#[derive(Serialize)]
pub struct SessionView {
    pub id: i64,
    pub address: String,
    pub created: String,
    pub last_seen: String,
    /// The same in the household's zone, for the page.
    #[serde(skip)]
    pub created_local: String,
    #[serde(skip)]
    pub last_seen_local: String,
}

async fn views(state: &AppState) -> Result<Vec<UserView>, WebError> {
    let zone = state.zone;
    state
        .blocking(move |s| -> Result<Vec<UserView>, WebError> {
            let mut out = Vec::new();
            for u in s.store.users()? {
                let sessions = s
                    .store
                    .sessions_of(u.id)?
                    .into_iter()
                    .map(|x| SessionView {
                        id: x.id,
                        address: x.address,
                        created: rfc3339(x.created_us),
                        last_seen: rfc3339(x.last_seen_us),
                        created_local: zone.date_time(x.created_us),
                        last_seen_local: zone.date_time(x.last_seen_us),
                    })
                    .collect();
                out.push(UserView {
                    role: u.role.as_str(),
                    second_factor: u.totp_secret.is_some(),
                    name: u.name,
                    cameras: u.cameras,
                    sessions,
                });
            }
            Ok(out)
        })
        .await?
}

/// `GET /api/users`
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<UserView>>, WebError> {
    Ok(Json(views(&state).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub nav: Nav,
    pub me: String,
    pub users: Vec<UserView>,
    pub cameras: Vec<String>,
    pub zone: String,
}

/// `GET /users`
pub async fn page(State(state): State<AppState>, admin: Admin) -> Result<UsersPage, WebError> {
    Ok(UsersPage {
        nav: Nav::of(&admin.0),
        me: admin.0.user.name.clone(),
        users: views(&state).await?,
        cameras: state
            .running()
            .cfg
            .cameras
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        zone: state.zone.name().to_owned(),
    })
}

fn role(s: &str) -> Result<Role, WebError> {
    Role::parse(s).ok_or_else(|| WebError::BadRequest("role is admin or viewer".into()))
}

#[derive(Deserialize)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    pub password: String,
    #[serde(default)]
    pub cameras: Vec<String>,
}

/// `POST /api/users` with `{"name", "role", "password", "cameras"}`.
pub async fn add(
    State(state): State<AppState>,
    admin: Admin,
    Json(u): Json<NewUser>,
) -> Result<Json<serde_json::Value>, WebError> {
    let r = role(&u.role)?;
    let a = admin.0;
    state
        .blocking(move |s| {
            s.accounts()
                .add(&a.actor(), &u.name, r, &u.password, &u.cameras)
        })
        .await??;
    Ok(Json(serde_json::json!({ "ok": true })))
}

#[derive(Deserialize)]
pub struct Permissions {
    pub role: String,
    #[serde(default)]
    pub cameras: Vec<String>,
}

/// `POST /api/users/{name}/permissions` with `{"role", "cameras"}`: the user's
/// sessions end, so the change holds at once.
pub async fn permissions(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Json(p): Json<Permissions>,
) -> Result<Json<serde_json::Value>, WebError> {
    let r = role(&p.role)?;
    let a = admin.0;
    state
        .blocking(move |s| {
            s.accounts()
                .set_permissions(&a.actor(), &name, r, &p.cameras)
        })
        .await??;
    Ok(Json(serde_json::json!({ "ok": true })))
}

#[derive(Deserialize)]
pub struct NewPassword {
    pub password: String,
}

/// `POST /api/users/{name}/password` with `{"password"}`: a forgotten password
/// replaced; the user's sessions end.
pub async fn password(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Json(p): Json<NewPassword>,
) -> Result<Json<serde_json::Value>, WebError> {
    let a = admin.0;
    state
        .blocking(move |s| s.accounts().set_password(&a.actor(), &name, &p.password))
        .await??;
    Ok(Json(serde_json::json!({ "ok": true })))
}

/// `POST /api/users/{name}/totp/reset`: turns another user's second factor off,
/// for a lost phone; their sessions end.
pub async fn totp_reset(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let a = admin.0;
    state
        .blocking(move |s| s.accounts().reset_second_factor(&a.actor(), &name))
        .await??;
    Ok(Json(serde_json::json!({ "ok": true })))
}

/// `DELETE /api/users/{name}`: the user, their permissions and sessions go.
pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let a = admin.0;
    state
        .blocking(move |s| s.accounts().remove(&a.actor(), &name))
        .await??;
    Ok(Json(serde_json::json!({ "ok": true })))
}

#[derive(Deserialize)]
pub struct SessionPath {
    pub name: String,
    pub id: i64,
}

/// `POST /api/users/{name}/sessions/{id}/end`: a session on a lost or shared
/// device ended; its live views and downloads stop with it.
pub async fn end_session(
    State(state): State<AppState>,
    admin: Admin,
    Path(p): Path<SessionPath>,
) -> Result<Json<serde_json::Value>, WebError> {
    let a = admin.0;
    state
        .blocking(move |s| s.accounts().end_session(&a.actor(), &p.name, p.id))
        .await??;
    Ok(Json(serde_json::json!({ "ok": true })))
}
