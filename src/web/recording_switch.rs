//! An admin switches a camera's recording off or on while Hearth runs: the
//! supervisor audits it (as that admin) and keeps it in the index before the
//! camera's pipeline starts again the new way. Live view and detection go on.

use super::auth::Admin;
use super::error::WebError;
use super::state::{AppState, RecordingAsk};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct Switch {
    /// `true` records again, `false` stops recording.
    pub on: bool,
}

pub async fn switch(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Json(body): Json<Switch>,
) -> Result<Json<Value>, WebError> {
    if state.running().cfg.camera(&name).is_none() {
        return Err(WebError::NotFound);
    }
    let control = state.control("switch recording")?;
    super::state::ask(&control.recording, |reply| RecordingAsk {
        camera: name.clone(),
        on: body.on,
        by: admin.0.user.name.clone(),
        reply,
    })
    .await?;
    Ok(Json(json!({ "camera": name, "recording": body.on })))
}
