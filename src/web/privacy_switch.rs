//! Privacy mode switched from the browser or the API, through the supervisor
//! (which audits it as the user): anyone who may view a camera may make it
//! private; only an admin may end privacy, since that lets the camera be
//! watched again. A group's switch ("home mode") does every camera in it.

use super::auth::{Authed, CameraAccess};
use super::error::WebError;
use super::state::{AppState, PrivacyAsk, PrivacyTarget};
use crate::store::Role;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct Switch {
    /// `true` stops pulling the camera; `false` lets it be pulled again.
    pub private: bool,
}

fn may_switch(a: &Authed, private: bool) -> Result<(), WebError> {
    if !private && a.user.role != Role::Admin {
        return Err(WebError::Forbidden(
            "only an admin may end privacy mode".into(),
        ));
    }
    Ok(())
}

async fn ask(
    state: &AppState,
    target: PrivacyTarget,
    private: bool,
    by: &str,
) -> Result<Vec<String>, WebError> {
    let control = state.control("switch privacy")?;
    super::state::ask(&control.privacy, |reply| PrivacyAsk {
        target,
        private,
        by: by.to_owned(),
        reply,
    })
    .await
}

/// `POST /api/cameras/{name}/privacy {"private": bool}`
pub async fn camera(
    State(state): State<AppState>,
    cam: CameraAccess,
    Json(body): Json<Switch>,
) -> Result<Json<Value>, WebError> {
    may_switch(&cam.authed, body.private)?;
    let target = PrivacyTarget::Camera(cam.camera.clone());
    let changed = ask(&state, target, body.private, &cam.authed.user.name).await?;
    Ok(Json(
        json!({ "camera": cam.camera, "private": body.private, "changed": changed }),
    ))
}

/// `POST /api/privacy/groups/{group} {"private": bool}`: only for a user who
/// may view every camera in the group.
pub async fn group(
    State(state): State<AppState>,
    a: Authed,
    Path(group): Path<String>,
    Json(body): Json<Switch>,
) -> Result<Json<Value>, WebError> {
    may_switch(&a, body.private)?;
    let members: Vec<String> = state
        .running()
        .cfg
        .cameras
        .iter()
        .filter(|c| c.privacy_groups.contains(&group))
        .map(|c| c.name.clone())
        .collect();
    if members.is_empty() {
        return Err(WebError::NotFound);
    }
    if !members.iter().all(|c| a.user.may_view(c)) {
        return Err(WebError::Forbidden(format!(
            "the group {group} has cameras you may not view"
        )));
    }
    let changed = ask(
        &state,
        PrivacyTarget::Group(group.clone()),
        body.private,
        &a.user.name,
    )
    .await?;
    Ok(Json(
        json!({ "group": group, "private": body.private, "changed": changed }),
    ))
}
