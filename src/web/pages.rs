//! Server-rendered pages (askama): login, cameras with health and storage, one
//! camera's recordings by day with a player, the audit log, the account.

use super::api::{self, CameraStatus, Storage};
use super::auth::{Authed, CameraAccess};
use super::error::WebError;
use super::state::AppState;
use crate::security::audit_chain::Entry;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{Days, NaiveDate, Utc};
use serde::Deserialize;

/// What every page's header shows.
pub struct Nav {
    pub user: String,
    pub admin: bool,
    pub csrf: String,
}

impl Nav {
    fn of(a: &Authed) -> Nav {
        Nav {
            user: a.user.name.clone(),
            admin: a.user.role == crate::store::Role::Admin,
            csrf: a.csrf.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub error: Option<String>,
}

impl LoginPage {
    pub fn with_error(e: &str) -> LoginPage {
        LoginPage {
            error: Some(e.to_owned()),
        }
    }
}

pub async fn login_page() -> LoginPage {
    LoginPage { error: None }
}

pub fn human_bytes(b: &u64) -> String {
    let b = *b as f64;
    match b {
        b if b >= 1e12 => format!("{:.1} TB", b / 1e12),
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.0} kB", b / 1e3),
        b => format!("{b} B"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub nav: Nav,
    pub cameras: Vec<CameraStatus>,
    pub storage: Storage,
}

pub async fn index(State(state): State<AppState>, a: Authed) -> Result<IndexPage, WebError> {
    Ok(IndexPage {
        cameras: api::camera_statuses(&state, &a),
        storage: api::storage_usage(&state, &a).await?,
        nav: Nav::of(&a),
    })
}

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    pub day: Option<String>,
}

/// An unbroken run of recording.
pub struct Span {
    pub from: String,
    pub to: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "camera.html")]
pub struct CameraPage {
    pub nav: Nav,
    pub camera: String,
    pub day: String,
    pub prev_day: String,
    pub next_day: String,
    pub spans: Vec<Span>,
    pub events: Vec<EventItem>,
}

/// A motion event in the day's list: its thumbnail, and the range to play
/// (with the camera's pre- and post-roll).
pub struct EventItem {
    pub id: i64,
    pub label: String,
    pub from: String,
    pub to: String,
    pub zones: String,
}

pub async fn camera(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<DayQuery>,
) -> Result<CameraPage, WebError> {
    let day = match &q.day {
        None => Utc::now().date_naive(),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| WebError::BadRequest("day: expected YYYY-MM-DD".into()))?,
    };
    let start = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default();
    let end = start + 86_400_000_000;
    let name = cam.camera.clone();
    let rows = state
        .blocking(move |s| {
            s.store
                .segments_between(&name, crate::config::StreamKind::Main, start, end)
        })
        .await??;
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for r in &rows {
        match runs.last_mut() {
            Some(last) if r.start_us - last.1 < 1_500_000 => last.1 = last.1.max(r.end_us()),
            _ => runs.push((r.start_us, r.end_us())),
        }
    }
    let fmt = |us: i64| {
        chrono::DateTime::<Utc>::from_timestamp_micros(us)
            .map(|t| t.format("%H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let spans = runs
        .into_iter()
        .map(|(a, b)| Span {
            from: api::rfc3339(a),
            to: api::rfc3339(b),
            label: format!("{} – {} UTC ({} min)", fmt(a), fmt(b), (b - a) / 60_000_000),
        })
        .collect();
    let (pre, post) = state
        .cfg
        .camera(&cam.camera)
        .map_or((5_000_000, 10_000_000), |c| {
            (
                crate::media::clock::duration_us(c.motion.pre_roll),
                crate::media::clock::duration_us(c.motion.post_roll),
            )
        });
    let events = api::event_list(&state, &cam.camera, start, end)
        .await?
        .into_iter()
        .rev()
        .map(|e| EventItem {
            id: e.id,
            label: format!(
                "{} UTC, {} s",
                fmt(e.start_us),
                (e.end_us - e.start_us + 999_999) / 1_000_000
            ),
            from: api::rfc3339(e.start_us - pre),
            to: api::rfc3339(e.end_us + post),
            zones: e.zones.join(", "),
        })
        .collect();
    let d = |x: Option<NaiveDate>| {
        x.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    Ok(CameraPage {
        events,
        nav: Nav::of(&cam.authed),
        camera: cam.camera,
        day: d(Some(day)),
        prev_day: d(day.checked_sub_days(Days::new(1))),
        next_day: d(day.checked_add_days(Days::new(1))),
        spans,
    })
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

impl From<Entry> for AuditRow {
    fn from(e: Entry) -> Self {
        let r = e.record;
        let o = |v: Option<String>| v.unwrap_or_default();
        AuditRow {
            id: e.id,
            time: api::rfc3339(r.time_us),
            user: o(r.user),
            address: o(r.address),
            action: r.action,
            camera: o(r.camera),
            range: match (r.from_us, r.to_us) {
                (Some(a), Some(b)) => format!("{} – {}", api::rfc3339(a), api::rfc3339(b)),
                _ => String::new(),
            },
            detail: o(r.detail),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub nav: Nav,
    pub everyone: bool,
    pub rows: Vec<AuditRow>,
    /// For admins: the start-up verification (when, and its result), and whether it held.
    pub check: Option<(String, String, bool)>,
}

pub async fn audit(State(state): State<AppState>, a: Authed) -> Result<AuditPage, WebError> {
    let mut entries = api::audit_entries(&state, &a, 1000).await?;
    entries.reverse();
    let everyone = a.user.role == crate::store::Role::Admin;
    let check = state.audit_check.get().filter(|_| everyone).map(|(at, r)| {
        let at = api::rfc3339(*at);
        match r {
            Ok(n) => (at, format!("{n} entries, chain intact"), true),
            Err(e) => (at, format!("TAMPERED: {e}"), false),
        }
    });
    Ok(AuditPage {
        everyone,
        check,
        rows: entries.into_iter().map(AuditRow::from).collect(),
        nav: Nav::of(&a),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub nav: Nav,
    pub role: String,
    pub cameras: String,
    pub totp: bool,
}

pub async fn account(a: Authed) -> AccountPage {
    AccountPage {
        role: a.user.role.as_str().to_owned(),
        cameras: if a.user.role == crate::store::Role::Admin {
            "all cameras".into()
        } else {
            a.user.cameras.join(", ")
        },
        totp: a.user.totp_secret.is_some(),
        nav: Nav::of(&a),
    }
}
