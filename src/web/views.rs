//! Viewing receipts: every user sees, for each camera they may view, who saw
//! its footage and how (live and for how long, playback ranges, stills, event
//! pictures, exports), admins included; read from the audit log, newest first,
//! a page at a time.

use super::auth::Authed;
use super::error::WebError;
use super::pages::Nav;
use super::state::AppState;
use crate::view_receipts::{self, Receipt, VIEWS};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

/// Receipts on one page.
const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub struct ViewsQuery {
    #[serde(default)]
    pub camera: Option<String>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

impl ViewsQuery {
    /// The cameras asked about that `a` may view: one, or all of them.
    fn cameras(&self, state: &AppState, a: &Authed) -> Result<Vec<String>, WebError> {
        let mine: Vec<String> = state
            .running()
            .cfg
            .cameras
            .iter()
            .filter(|c| a.user.may_view(&c.name))
            .map(|c| c.name.clone())
            .collect();
        match self.camera.as_deref().filter(|c| !c.is_empty()) {
            None => Ok(mine),
            Some(c) if mine.iter().any(|m| m == c) => Ok(vec![c.to_owned()]),
            Some(_) => Err(WebError::NotFound),
        }
    }
}

async fn receipts(
    state: &AppState,
    cameras: Vec<String>,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<Receipt>, Option<i64>), WebError> {
    let zone = state.zone;
    let limit = limit.clamp(1, 1000);
    let entries = state
        .blocking(move |s| s.store.audit_about(&cameras, VIEWS, before, limit))
        .await??;
    // A full page has older entries behind it, from its oldest on.
    let older = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok((view_receipts::receipts(&entries, zone), older))
}

/// `GET /api/views[?camera=&before=&limit=]`: newest first.
pub async fn api(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<ViewsQuery>,
) -> Result<Json<Vec<Receipt>>, WebError> {
    let cameras = q.cameras(&state, &a)?;
    let (r, _) = receipts(&state, cameras, q.before, q.limit.unwrap_or(PAGE)).await?;
    Ok(Json(r))
}

pub struct Row {
    pub time: String,
    pub camera: String,
    pub sentence: String,
    pub open: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "views.html")]
pub struct ViewsPage {
    pub nav: Nav,
    pub zone: &'static str,
    pub cameras: Vec<String>,
    pub camera: String,
    pub rows: Vec<Row>,
    /// The query string of the next (older) page, when there is one.
    pub older: Option<String>,
}

/// `GET /views[?camera=&before=]`
pub async fn page(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<ViewsQuery>,
) -> Result<ViewsPage, WebError> {
    let all = ViewsQuery::default().cameras(&state, &a)?;
    let cameras = q.cameras(&state, &a)?;
    let (list, older) = receipts(&state, cameras, q.before, PAGE).await?;
    let camera = q.camera.clone().unwrap_or_default();
    let older = older.map(|id| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !camera.is_empty() {
            s.append_pair("camera", &camera);
        }
        s.append_pair("before", &id.to_string());
        s.finish()
    });
    let zone = state.zone;
    Ok(ViewsPage {
        nav: Nav::of(&a),
        zone: zone.name(),
        cameras: all,
        camera,
        rows: list
            .into_iter()
            .map(|r| Row {
                time: zone.date_time(r.time_us),
                camera: r.camera,
                sentence: r.sentence,
                open: r.open,
            })
            .collect(),
        older,
    })
}
