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
    let control = state.config.as_ref().ok_or_else(|| {
        WebError::Unavailable("this server runs without a supervisor to switch recording".into())
    })?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let ask = RecordingAsk {
        camera: name.clone(),
        on: body.on,
        by: admin.0.user.name.clone(),
        reply,
    };
    let gone = || WebError::Unavailable("Hearth is stopping".into());
    control.recording.send(ask).await.map_err(|_| gone())?;
    answer
        .await
        .map_err(|_| gone())?
        .map_err(WebError::Internal)?;
    Ok(Json(json!({ "camera": name, "recording": body.on })))
}
