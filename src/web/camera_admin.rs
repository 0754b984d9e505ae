//! The admin's camera settings: list, add, change and remove cameras in the
//! config file (through `config_edit`), applied by the supervisor without a
//! restart, each change audited with every key's before and after.

use super::auth::Admin;
use super::camera_form::{self, CameraForm};
use super::error::WebError;
use super::state::{AppState, ConfigControl, ReloadAsk};
use crate::audit_record::action;
use crate::config::Config;
use crate::config_edit::{self, EditError, Field, Version};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use toml_edit::DocumentMut;

fn control(state: &AppState) -> Result<&ConfigControl, WebError> {
    state.config.as_ref().ok_or_else(|| {
        WebError::Unavailable("this server was started without a config file it may change".into())
    })
}

impl From<EditError> for WebError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::Changed { .. } => WebError::Conflict(e.to_string()),
            EditError::NoCamera(_) => WebError::NotFound,
            EditError::Read { .. } | EditError::Write { .. } => WebError::Internal(e.to_string()),
            _ => WebError::BadRequest(e.to_string()),
        }
    }
}

#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "camera_settings.html")]
pub struct SettingsPage {
    pub nav: super::pages::Nav,
    pub editable: bool,
    pub config_path: String,
    /// The brands' URL recipes as JSON, for the form.
    pub recipes: String,
}

/// `GET /camera-settings`: the page; its script reads and changes the
/// cameras through the API below.
pub async fn page(State(state): State<AppState>, admin: Admin) -> Result<SettingsPage, WebError> {
    Ok(SettingsPage {
        nav: super::pages::Nav::of(&admin.0),
        editable: state.config.is_some(),
        config_path: state
            .config
            .as_ref()
            .map(|c| c.path.display().to_string())
            .unwrap_or_default(),
        recipes: serde_json::to_string(super::url_recipes::RECIPES)
            .map_err(|e| WebError::Internal(e.to_string()))?,
    })
}

/// `GET /api/admin/cameras`: the file's cameras as forms (never a password)
/// and the version a change must name.
pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Json<Value>, WebError> {
    let path = control(&state)?.path.clone();
    let (text, version) = state.blocking(move |_| config_edit::read(&path)).await??;
    let path = control(&state)?.path.clone();
    let cfg = Config::parse(&text, &path).map_err(|e| {
        WebError::Conflict(format!(
            "the config file does not check; fix it by hand first: {e}"
        ))
    })?;
    let cameras: Vec<CameraForm> = cfg.cameras.iter().map(CameraForm::of).collect();
    Ok(Json(json!({
        "version": version.0,
        "cameras": cameras,
        "new_camera": CameraForm::new_camera(),
    })))
}

#[derive(Deserialize)]
pub struct SaveCamera {
    pub version: String,
    pub camera: CameraForm,
}

/// The keys that set a camera's credentials: a new password goes to its
/// private file, an empty one removes them.
fn credentials(password: Option<&str>, file: Option<String>) -> Vec<Field> {
    match (password, file) {
        (Some(""), _) => vec![("password".into(), None), ("password_file".into(), None)],
        (Some(_), Some(file)) => vec![
            ("password".into(), None),
            ("password_file".into(), Some(toml_edit::value(file))),
        ],
        _ => Vec::new(),
    }
}

/// A camera's password file, put in place for a save and put back when the
/// save does not happen.
struct PasswordFile {
    path: std::path::PathBuf,
    old: Option<Vec<u8>>,
    name: String,
}

impl PasswordFile {
    fn write(config: &std::path::Path, camera: &str, password: &str) -> Result<Self, EditError> {
        let name = format!("{camera}.password");
        let path = config.with_file_name(&name);
        let old = std::fs::read(&path).ok();
        config_edit::write_password(config, camera, password)?;
        Ok(PasswordFile { path, old, name })
    }

    fn undo(self) {
        let _ = match self.old {
            Some(old) => std::fs::write(&self.path, old),
            None => std::fs::remove_file(&self.path),
        };
    }
}

/// What a save changed and how it was applied.
struct Outcome {
    saved: config_edit::Saved,
    applied: Result<crate::config_diff::Diff, String>,
}

/// Saves `edit` against `version` (one save at a time) and has the
/// supervisor apply the file.
async fn save(
    state: &AppState,
    version: String,
    camera: String,
    password: Option<String>,
    edit: impl FnOnce(&mut DocumentMut, &Config, Vec<Field>) -> Result<(), EditError> + Send + 'static,
) -> Result<Outcome, WebError> {
    let control = control(state)?;
    let _one = control.saving.lock().await;
    let path = control.path.clone();
    let saved = state
        .blocking(move |_| -> Result<_, EditError> {
            let file = match password.as_deref() {
                Some(p) if !p.is_empty() => Some(PasswordFile::write(&path, &camera, p)?),
                _ => None,
            };
            let creds = credentials(password.as_deref(), file.as_ref().map(|f| f.name.clone()));
            match config_edit::save(&path, &Version(version), |doc, now| edit(doc, now, creds)) {
                Ok(s) => Ok(s),
                Err(e) => {
                    if let Some(f) = file {
                        f.undo();
                    }
                    Err(e)
                }
            }
        })
        .await??;
    let (reply, replied) = tokio::sync::oneshot::channel();
    let ask = ReloadAsk {
        text: saved.text.clone(),
        reply,
    };
    let applied = match control.reload.send(ask).await {
        Ok(()) => replied
            .await
            .unwrap_or_else(|_| Err("the recorder is stopping".into())),
        Err(_) => Err("the recorder is stopping".into()),
    };
    Ok(Outcome { saved, applied })
}

fn answer(o: &Outcome) -> Json<Value> {
    let (applied, restart) = match &o.applied {
        Ok(d) => (Value::Null, d.needs_restart.clone()),
        Err(e) => (Value::String(e.clone()), Vec::new()),
    };
    Json(json!({
        "version": o.saved.version.0,
        "not_applied": applied,
        "needs_restart": restart,
    }))
}

/// `POST /api/admin/cameras` with `{"version", "camera"}`: adds a camera.
pub async fn add(
    State(state): State<AppState>,
    admin: Admin,
    Json(body): Json<SaveCamera>,
) -> Result<Json<Value>, WebError> {
    let form = body.camera;
    if !crate::config::valid_name(&form.name) {
        return Err(WebError::BadRequest(
            "a camera name is 1 to 64 letters, digits, '-' or '_'".into(),
        ));
    }
    let name = form.name.clone();
    let password = form.password.clone();
    let f = form.clone();
    let o = save(
        &state,
        body.version,
        name.clone(),
        password,
        move |doc, _, creds| {
            let mut fields = camera_form::fields(&f, None);
            fields.extend(creds);
            config_edit::add_camera(doc, &f.name, &fields)
        },
    )
    .await?;
    let after = o.saved.after.camera(&name).map(CameraForm::of);
    let detail = camera_form::changes(
        None,
        after.as_ref().unwrap_or(&form),
        form.password.is_some(),
    );
    state
        .audit(crate::audit_record::Record {
            camera: Some(name),
            detail: Some(detail),
            ..admin.0.record(action::CAMERA_ADD)
        })
        .await?;
    Ok(answer(&o))
}

/// `POST /api/admin/cameras/{name}` with `{"version", "camera"}`: changes the
/// keys the form changed and leaves the rest of the camera's table as it is.
/// A new name takes the camera's recordings, events and permissions with it.
pub async fn edit(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Json(body): Json<SaveCamera>,
) -> Result<Json<Value>, WebError> {
    let form = body.camera;
    let renamed = form.name != name;
    if renamed && !crate::config::valid_name(&form.name) {
        return Err(WebError::BadRequest(
            "a camera name is 1 to 64 letters, digits, '-' or '_'".into(),
        ));
    }
    let password = form.password.clone();
    let (f, n) = (form.clone(), name.clone());
    let o = save(
        &state,
        body.version,
        form.name.clone(),
        password,
        move |doc, cfg, creds| {
            // The keys changed against the file as it is, not as the page saw it.
            let Some(now) = cfg.camera(&n).map(CameraForm::of) else {
                return Err(EditError::NoCamera(n));
            };
            let mut fields = camera_form::fields(&f, Some(&now));
            fields.extend(creds);
            config_edit::edit_camera(doc, &n, &fields)
        },
    )
    .await?;
    // Its recordings, events and permissions go with the name once its old
    // pipeline has stopped (the reload has done that).
    if renamed && o.applied.is_ok() {
        let (old, new) = (name.clone(), form.name.clone());
        state
            .blocking(move |s| s.store.rename_camera(&old, &new))
            .await?
            .map_err(|e| {
                WebError::Internal(format!(
                    "{name} is renamed {} in the config, but its history was not moved: {e}",
                    form.name
                ))
            })?;
    }
    let before = o.saved.before.camera(&name).map(CameraForm::of);
    let after = o.saved.after.camera(&form.name).map(CameraForm::of);
    let detail = match &after {
        Some(a) => camera_form::changes(before.as_ref(), a, form.password.is_some()),
        None => "removed".into(),
    };
    state
        .audit(crate::audit_record::Record {
            camera: Some(form.name.clone()),
            detail: Some(detail),
            ..admin.0.record(action::CAMERA_CHANGE)
        })
        .await?;
    Ok(answer(&o))
}

#[derive(Deserialize)]
pub struct RemoveCamera {
    pub version: String,
    /// "keep" (until retention takes them) or "delete" (now).
    pub recordings: String,
}

/// `POST /api/admin/cameras/{name}/remove` with `{"version", "recordings"}`:
/// removes the camera from the config; its recordings stay until retention
/// takes them, or go now.
pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Json(body): Json<RemoveCamera>,
) -> Result<Json<Value>, WebError> {
    let delete = match body.recordings.as_str() {
        "keep" => false,
        "delete" => true,
        _ => {
            return Err(WebError::BadRequest(
                "recordings is \"keep\" or \"delete\"".into(),
            ));
        }
    };
    let n = name.clone();
    let o = save(
        &state,
        body.version,
        name.clone(),
        None,
        move |doc, _, _| config_edit::remove_camera(doc, &n),
    )
    .await?;
    let mut detail = if delete {
        "recordings deleted now".to_owned()
    } else {
        "recordings kept until retention takes them".to_owned()
    };
    // Its recorder has finished (the reload stopped it) before anything goes.
    if delete && o.applied.is_ok() {
        let n = name.clone();
        let (segments, bytes) = state
            .blocking(move |s| {
                crate::record::retention::delete_camera(
                    &s.running().cfg.storage.data_dir,
                    &s.store,
                    &n,
                )
            })
            .await?
            .map_err(|e| {
                WebError::Internal(format!("cannot delete the recordings of {name}: {e:#}"))
            })?;
        detail = format!("recordings deleted now: {segments} segments, {bytes} bytes");
    }
    state
        .audit(crate::audit_record::Record {
            camera: Some(name),
            detail: Some(detail),
            ..admin.0.record(action::CAMERA_REMOVE)
        })
        .await?;
    Ok(answer(&o))
}
