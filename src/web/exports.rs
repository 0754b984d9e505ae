//! Exports from the browser: a range written on the server, its progress shown
//! and cancellable while it is written, then listed, downloaded and deleted by
//! the user who made it (and only while they may still see the camera). Each
//! creation, download and deletion is in the audit log.

use super::api::{RangeQuery, rfc3339};
use super::auth::{Authed, CameraAccess, may_see};
use super::error::WebError;
use super::media::{Source, audit_once_as, body, file_name, plan};
use super::state::AppState;
use crate::export_proof::AuditRef;
use crate::footage::Stored;
use crate::record::export;
use crate::record::export_file::{self, Progress, WriteError};
use crate::record::layout;
use crate::security::audit_chain::{Record, action};
use crate::store::exports::{ExportRow, ExportState, NewExport};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Exports one user may have being written at once.
const RUNNING_PER_USER: usize = 2;

/// The exports being written, by id, with who asked.
#[derive(Default)]
pub struct Jobs(Mutex<HashMap<i64, (i64, Arc<Progress>)>>);

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (i64, Arc<Progress>)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn progress(&self, id: i64) -> Option<Arc<Progress>> {
        self.lock().get(&id).map(|(_, p)| p.clone())
    }
}

/// An export as the API shows it.
#[derive(Serialize)]
pub struct Listed {
    pub id: i64,
    pub camera: String,
    pub stream: String,
    pub from: String,
    pub to: String,
    pub created: String,
    pub bytes: u64,
    /// Bytes written so far (all of them once ready).
    pub written: u64,
    pub state: ExportState,
    pub error: Option<String>,
    /// Where to download it, once ready.
    pub file: Option<String>,
}

fn listed(state: &AppState, e: ExportRow) -> Listed {
    let written = match e.state {
        ExportState::Ready => e.bytes,
        ExportState::Writing => state
            .exports
            .progress(e.id)
            .map_or(0, |p| p.written.load(Ordering::Relaxed)),
        ExportState::Failed => 0,
    };
    Listed {
        file: (e.state == ExportState::Ready)
            .then(|| format!("/api/cameras/{}/exports/{}/file", e.camera, e.id)),
        id: e.id,
        from: rfc3339(e.from_us),
        to: rfc3339(e.to_us),
        created: rfc3339(e.created_us),
        camera: e.camera,
        stream: e.stream,
        bytes: e.bytes,
        written,
        state: e.state,
        error: e.error,
    }
}

/// What to export: a range, and whether as a signed bundle.
#[derive(Deserialize)]
pub struct ExportRequest {
    #[serde(flatten)]
    pub range: RangeQuery,
    /// Append the manifest signed with the installation's key.
    #[serde(default)]
    pub bundle: bool,
}

/// `POST /api/cameras/{name}/exports` with `{"from", "to", "stream"?,
/// "bundle"?}`: starts writing the range on the server; answers the new export.
pub async fn create(
    State(state): State<AppState>,
    cam: CameraAccess,
    Json(req): Json<ExportRequest>,
) -> Result<(StatusCode, Json<Listed>), WebError> {
    let (q, bundle) = (req.range, req.bundle);
    let user_id = cam.authed.user.id;
    let running = state
        .exports
        .lock()
        .values()
        .filter(|(u, _)| *u == user_id)
        .count();
    if running >= RUNNING_PER_USER {
        return Err(WebError::TooMany(format!(
            "{running} exports are being written already: wait for one to finish"
        )));
    }
    let (plan, _, from, to) = plan(&state, &cam, &q).await?;
    let (_, _, stream) = q.parse()?;
    let (camera, bytes) = (cam.camera.clone(), plan.len);
    let id = state
        .blocking(move |s| -> Result<i64, WebError> {
            let dir = &s.running().cfg.storage.data_dir;
            let free = crate::record::retention::free_space(dir)
                .map_err(|e| WebError::Internal(format!("free space of {}: {e}", dir.display())))?;
            if free < bytes.saturating_add(s.running().cfg.storage.min_free) {
                return Err(WebError::NoSpace(format!(
                    "this export needs {} MB and the disk has {} MB to spare",
                    bytes.div_ceil(1_000_000),
                    free.saturating_sub(s.running().cfg.storage.min_free) / 1_000_000
                )));
            }
            Ok(s.store.export_add(&NewExport {
                user_id,
                camera: &camera,
                stream: stream.as_str(),
                from_us: from,
                to_us: to,
                created_us: chrono::Utc::now().timestamp_micros(),
                bytes,
            })?)
        })
        .await??;
    // The footage is on its way to a file the user can take away: audited
    // before a byte is written.
    let record = Record {
        from_us: Some(from),
        to_us: Some(to),
        detail: Some(format!(
            "export #{id} kept on the server ({} MB){}",
            bytes.div_ceil(1_000_000),
            if bundle { ", a signed bundle" } else { "" }
        )),
        ..cam.record(action::EXPORT)
    };
    let entry = match state.audit_entry(record.clone()).await {
        Ok(e) => e,
        Err(e) => {
            let _ = state.blocking(move |s| s.store.export_remove(id)).await;
            return Err(e);
        }
    };
    let progress = Arc::new(Progress::default());
    state.exports.lock().insert(id, (user_id, progress.clone()));
    let job = state.clone();
    let camera = cam.camera.clone();
    tokio::task::spawn_blocking(move || {
        let outcome = match bundle {
            false => Ok(None),
            true => export::manifest(&job.footage, &camera, stream, from, to).map(|mut m| {
                m.audit = vec![AuditRef::new(entry.id, entry.time_us, &entry.hash, &record)];
                Some((&*job.signing, m))
            }),
        }
        .map_err(WriteError::from)
        .and_then(|proof| export_file::write(&job.footage, id, &plan, &progress, proof));
        let stored = match &outcome {
            Ok(()) => job.store.export_finish(id, Ok(())),
            // A cancelled export is deleted by whoever cancelled it.
            Err(WriteError::Cancelled) => Ok(()),
            Err(e) => {
                tracing::warn!("export #{id}: {e}");
                job.store.export_finish(id, Err(&e.to_string()))
            }
        };
        if let Err(e) = stored {
            tracing::error!("export #{id}: cannot record its outcome: {e}");
        }
        job.exports.lock().remove(&id);
    });
    let row = state
        .blocking(move |s| s.store.export(id))
        .await??
        .ok_or(WebError::NotFound)?;
    Ok((StatusCode::CREATED, Json(listed(&state, row))))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub camera: Option<String>,
}

/// `GET /api/exports[?camera=]`: the user's exports of cameras they may see, newest first.
pub async fn list(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Listed>>, WebError> {
    let user = a.user.clone();
    let rows = state
        .blocking(move |s| s.store.exports_of(user.id))
        .await??;
    Ok(Json(
        rows.into_iter()
            .filter(|e| q.camera.as_ref().is_none_or(|c| *c == e.camera))
            .filter(|e| may_see(&state, &a.user, &e.camera))
            .map(|e| listed(&state, e))
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct ExportPath {
    pub id: i64,
}

/// The user's own export `id` of this camera.
async fn own(state: &AppState, cam: &CameraAccess, id: i64) -> Result<ExportRow, WebError> {
    let row = state.blocking(move |s| s.store.export(id)).await??;
    row.filter(|e| e.user_id == cam.authed.user.id && e.camera == cam.camera)
        .ok_or(WebError::NotFound)
}

/// A ready export's file, read in chunks.
struct ExportFile(Mutex<Stored>);

impl Source for ExportFile {
    fn read(&self, from: u64, to: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let start = out.len();
        out.resize(start + usize::try_from(to - from).unwrap_or(0), 0);
        f.read_exact_at(from, &mut out[start..])
    }
}

/// `GET /api/cameras/{name}/exports/{id}/file`: the export, downloaded.
pub async fn file(
    State(state): State<AppState>,
    cam: CameraAccess,
    Path(p): Path<ExportPath>,
) -> Result<Response, WebError> {
    let e = own(&state, &cam, p.id).await?;
    if e.state != ExportState::Ready {
        return Err(WebError::NotFound);
    }
    let rel = layout::export_path(e.id);
    let f = state
        .blocking(move |s| {
            let mut f = s
                .footage
                .open_file(&layout::absolute(s.footage.dir(), &rel))?;
            let len = f.plain_len()?;
            Ok::<_, std::io::Error>((f, len))
        })
        .await?;
    let (f, len) = match f {
        Ok(f) => f,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(WebError::NotFound),
        Err(err) => return Err(WebError::Internal(format!("export #{}: {err}", e.id))),
    };
    audit_once_as(
        &state,
        &cam,
        (String::new(), e.id, 0),
        Record {
            from_us: Some(e.from_us),
            to_us: Some(e.to_us),
            detail: Some(format!("export #{}", e.id)),
            ..cam.record(action::EXPORT_DOWNLOAD)
        },
    )
    .await?;
    let mut resp = Response::new(body(
        &state,
        &cam,
        Arc::new(ExportFile(Mutex::new(f))),
        0,
        len,
    ));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        file_name(&cam.camera, e.from_us)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `DELETE /api/cameras/{name}/exports/{id}`: cancels the export if it is being
/// written, and deletes it.
pub async fn delete(
    State(state): State<AppState>,
    cam: CameraAccess,
    Path(p): Path<ExportPath>,
) -> Result<Response, WebError> {
    let e = own(&state, &cam, p.id).await?;
    let writing = state.exports.progress(e.id);
    if let Some(p) = &writing {
        p.cancel.store(true, Ordering::Relaxed);
    }
    let id = e.id;
    state
        .blocking(move |s| -> Result<(), WebError> {
            s.store.export_remove(id)?;
            export_file::remove(&s.running().cfg.storage.data_dir, id)
                .map_err(|err| WebError::Internal(format!("removing export #{id}: {err}")))
        })
        .await??;
    state
        .audit(Record {
            from_us: Some(e.from_us),
            to_us: Some(e.to_us),
            detail: Some(format!(
                "export #{id} {}",
                if writing.is_some() {
                    "cancelled and deleted"
                } else {
                    "deleted"
                }
            )),
            ..cam.record(action::EXPORT_DELETE)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
