//! The audit log in the browser and the API: admins see every entry, everyone
//! else their own; filtered by user, camera, action and local day, a page at a
//! time, newest first. Admins also see the hash chain's last verification and
//! can run it again.

use super::auth::{Admin, Authed, may_see};
use super::error::WebError;
use super::pages::Nav;
use super::state::AppState;
use crate::local_time::Zone;
use crate::security::audit_chain::{Entry, action};
use crate::store::{AuditFilter, Role};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use serde::Deserialize;

/// Entries on one page.
const PAGE: i64 = 200;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub camera: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    /// A local day, `YYYY-MM-DD`.
    #[serde(default)]
    pub day: Option<String>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl AuditQuery {
    /// The filter this query asks for, as `a` may see it: a viewer sees only
    /// their own entries.
    fn filter(&self, a: &Authed, zone: Zone, limit: i64) -> Result<AuditFilter, WebError> {
        let (from_us, to_us) = match given(&self.day) {
            None => (None, None),
            Some(d) => {
                let day = NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| WebError::BadRequest("day: expected YYYY-MM-DD".into()))?;
                let (a, b) = zone.day_bounds(day);
                (Some(a), Some(b))
            }
        };
        Ok(AuditFilter {
            user: if a.user.role == Role::Admin {
                given(&self.user)
            } else {
                Some(a.user.name.clone())
            },
            camera: given(&self.camera),
            action: given(&self.action),
            from_us,
            to_us,
            before_id: self.before,
            limit: limit.clamp(1, 10_000),
        })
    }
}

async fn entries(state: &AppState, f: AuditFilter) -> Result<Vec<Entry>, WebError> {
    Ok(state
        .blocking(move |s| s.store.audit_filtered(&f))
        .await??)
}

/// `GET /api/audit[?user=&camera=&action=&day=&before=&limit=]`: oldest first.
pub async fn api(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<Entry>>, WebError> {
    let f = q.filter(&a, state.zone, q.limit.unwrap_or(500))?;
    let mut rows = entries(&state, f).await?;
    rows.reverse();
    Ok(Json(rows))
}

pub struct AuditRow {
    pub id: i64,
    pub time: String,
    pub user: String,
    pub address: String,
    pub action: String,
    pub camera: String,
    pub range: String,
    pub detail: String,
}

impl AuditRow {
    fn new(e: Entry, zone: Zone) -> Self {
        let r = e.record;
        let o = |v: Option<String>| v.unwrap_or_default();
        AuditRow {
            id: e.id,
            time: zone.date_time(r.time_us),
            user: o(r.user),
            address: o(r.address),
            action: r.action,
            camera: o(r.camera),
            range: match (r.from_us, r.to_us) {
                (Some(a), Some(b)) if zone.day_of(a) == zone.day_of(b) => {
                    format!("{} – {}", zone.date_time(a), zone.time(b))
                }
                (Some(a), Some(b)) => format!("{} – {}", zone.date_time(a), zone.date_time(b)),
                _ => String::new(),
            },
            detail: o(r.detail),
        }
    }
}

/// The last verification as the page shows it: when, what it found, whether it held.
pub struct Check {
    pub at: String,
    pub result: String,
    pub held: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub nav: Nav,
    pub zone: &'static str,
    pub everyone: bool,
    pub rows: Vec<AuditRow>,
    pub check: Option<Check>,
    /// The filter's choices and what is picked.
    pub users: Vec<String>,
    pub cameras: Vec<String>,
    pub actions: &'static [&'static str],
    pub user: String,
    pub camera: String,
    pub action: String,
    pub day: String,
    /// The query string of the next (older) page, when there is one.
    pub older: Option<String>,
}

fn check_of(state: &AppState) -> Option<Check> {
    let c = state.audit_check.lock().unwrap_or_else(|p| p.into_inner());
    c.as_ref().map(|(at, r)| Check {
        at: state.zone.date_time(*at),
        result: match r {
            Ok(n) => format!("{n} entries, chain intact"),
            Err(e) => format!("TAMPERED: {e}"),
        },
        held: r.is_ok(),
    })
}

/// `GET /audit`
pub async fn page(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, WebError> {
    let everyone = a.user.role == Role::Admin;
    let f = q.filter(&a, state.zone, PAGE)?;
    let rows = entries(&state, f).await?;
    let older = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|e| e.id))
        .flatten()
        .map(|id| {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("user", &q.user),
                ("camera", &q.camera),
                ("action", &q.action),
                ("day", &q.day),
            ] {
                if let Some(v) = given(v) {
                    s.append_pair(k, &v);
                }
            }
            s.append_pair("before", &id.to_string());
            s.finish()
        });
    let users = if everyone {
        state
            .blocking(|s| s.store.users())
            .await??
            .into_iter()
            .map(|u| u.name)
            .collect()
    } else {
        Vec::new()
    };
    Ok(AuditPage {
        everyone,
        check: check_of(&state).filter(|_| everyone),
        rows: rows
            .into_iter()
            .map(|e| AuditRow::new(e, state.zone))
            .collect(),
        zone: state.zone.name(),
        users,
        cameras: state
            .running()
            .cfg
            .cameras
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| may_see(&state, &a.user, c))
            .collect(),
        actions: action::ALL,
        user: given(&q.user).unwrap_or_default(),
        camera: given(&q.camera).unwrap_or_default(),
        action: given(&q.action).unwrap_or_default(),
        day: given(&q.day).unwrap_or_default(),
        older,
        nav: Nav::of(&a),
    })
}

/// `POST /api/audit/verify` (admins): checks the whole chain again now.
pub async fn verify(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<serde_json::Value>, WebError> {
    let result = state.blocking(|s| s.audit.verify(&[])).await?;
    let answer = match &result {
        Ok(n) => serde_json::json!({ "ok": true, "entries": n }),
        Err(e) => {
            tracing::error!("AUDIT LOG TAMPERED: {e}");
            serde_json::json!({ "ok": false, "error": e })
        }
    };
    *state.audit_check.lock().unwrap_or_else(|p| p.into_inner()) =
        Some((chrono::Utc::now().timestamp_micros(), result));
    Ok(Json(answer))
}
