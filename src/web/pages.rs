//! Server-rendered pages (askama): login, cameras with health and storage, one
//! camera's recordings by day with a player, the audit log, the account.

use super::api::{self, CameraStatus, Storage};
use super::auth::{Authed, CameraAccess};
use super::error::WebError;
use super::state::AppState;
use crate::config::StreamKind;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{Days, NaiveDate};
use serde::Deserialize;

/// What every page's header shows.
pub struct Nav {
    pub user: String,
    pub admin: bool,
    pub csrf: String,
}

impl Nav {
    pub fn of(a: &Authed) -> Nav {
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
    /// Per camera: name, bytes, files, oldest and newest, in words.
    pub storage_rows: Vec<(String, String, u64, String, String)>,
    pub zone: crate::local_time::Zone,
    /// Privacy groups the user may switch, and whether each is all private now.
    pub groups: Vec<(String, bool)>,
}

/// The live wall, and what is stored.
pub async fn index(State(state): State<AppState>, a: Authed) -> Result<IndexPage, WebError> {
    let storage = api::storage_usage(&state, &a).await?;
    let when = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), |t| state.zone.date_time(t));
    let storage_rows = storage
        .cameras
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                human_bytes(&c.bytes),
                c.segments,
                when(c.oldest_us),
                when(c.newest_us),
            )
        })
        .collect();
    let cameras = api::camera_statuses(&state, &a);
    // Each group whose cameras this user may all view: its switch, and whether
    // every camera in it is private now.
    let running = state.running();
    let mut groups: Vec<(String, bool)> = Vec::new();
    for g in running
        .cfg
        .cameras
        .iter()
        .flat_map(|c| c.privacy_groups.iter())
    {
        if groups.iter().any(|(n, _)| n == g) {
            continue;
        }
        let members: Vec<_> = running
            .cfg
            .cameras
            .iter()
            .filter(|c| c.privacy_groups.contains(g))
            .collect();
        if members.iter().all(|c| a.user.may_view(&c.name)) {
            let all = members
                .iter()
                .all(|c| running.private.contains_key(&c.name));
            groups.push((g.clone(), all));
        }
    }
    Ok(IndexPage {
        zone: state.zone,
        groups,
        cameras,
        storage,
        storage_rows,
        nav: Nav::of(&a),
    })
}

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    pub day: Option<String>,
}

/// An unbroken run of recording, or an event's range with its pre- and post-roll.
pub struct Span {
    pub from_us: i64,
    pub to_us: i64,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "camera.html")]
pub struct CameraPage {
    pub nav: Nav,
    pub camera: String,
    pub day: String,
    pub day_label: String,
    pub prev_day: String,
    pub next_day: String,
    pub today: bool,
    pub zone: String,
    pub zone_name: &'static str,
    /// The day in UTC µs, `[start, end)`: 23 or 25 hours across a DST change.
    pub start_us: i64,
    pub end_us: i64,
    /// The day's offsets as JSON `[[from_us, to_us, offset_s], ...]`.
    pub offsets: String,
    pub spans: Vec<Span>,
    /// The main stream's frame rate (for stepping one frame), 0 when unknown.
    pub fps: f64,
    /// Whether the camera has a sub stream to watch live.
    pub has_sub: bool,
    /// Whether the camera is set up to send sound (`audio = true`).
    pub has_audio: bool,
    /// Since when and by whom recording is switched off, when it is.
    pub recording_off: Option<String>,
    /// Since when, by whom and until when the camera is private, when it is.
    pub private: Option<String>,
    /// The day's privacy periods, for the timeline.
    pub privacy: Vec<Span>,
    pub events: Vec<EventItem>,
}

/// A motion event in the day's list: its thumbnail, and the range to play
/// (with the camera's pre- and post-roll).
pub struct EventItem {
    pub id: i64,
    pub range: Span,
    pub zones: String,
}

/// Joins segments into unbroken runs (a gap under 1.5 s is no gap).
fn runs(rows: &[crate::store::SegmentRow]) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for r in rows {
        match runs.last_mut() {
            Some(last) if r.start_us - last.1 < 1_500_000 => last.1 = last.1.max(r.end_us()),
            _ => runs.push((r.start_us, r.end_us())),
        }
    }
    runs
}

/// Whole minutes, rounded up, or seconds under one.
fn length(us: i64) -> String {
    match us {
        us if us < 60_000_000 => format!("{} s", (us + 999_999) / 1_000_000),
        us => format!("{} min", (us + 59_999_999) / 60_000_000),
    }
}

pub async fn camera(
    State(state): State<AppState>,
    cam: CameraAccess,
    Query(q): Query<DayQuery>,
) -> Result<CameraPage, WebError> {
    let zone = state.zone;
    let now = chrono::Utc::now().timestamp_micros();
    let today = zone.day_of(now);
    let day = match q.day.as_deref().filter(|d| !d.is_empty()) {
        None => today,
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| WebError::BadRequest("day: expected YYYY-MM-DD".into()))?,
    };
    let (start, end) = zone.day_bounds(day);
    let name = cam.camera.clone();
    let rows = state
        .blocking(move |s| {
            s.store
                .segments_between(&name, StreamKind::Main, start, end)
        })
        .await??;
    let name = cam.camera.clone();
    let privacy = state
        .blocking(move |s| s.store.privacy_periods(&name, start, end))
        .await??
        .into_iter()
        .map(|p| {
            let to = p.end_us.unwrap_or(now).min(end);
            let by = p
                .ended_by
                .map_or(String::new(), |e| format!(", ended by {e}"));
            Span {
                from_us: p.start_us.max(start),
                to_us: to,
                label: format!(
                    "private {} – {} (begun by {}{by})",
                    zone.time(p.start_us),
                    p.end_us.map_or("now".to_owned(), |e| zone.time(e)),
                    p.started_by
                ),
            }
        })
        .collect();
    let spans = runs(&rows)
        .into_iter()
        .map(|(a, b)| Span {
            from_us: a,
            to_us: b,
            label: format!("{} – {} ({})", zone.time(a), zone.time(b), length(b - a)),
        })
        .collect();
    let (pre, post) = state.rolls(&cam.camera);
    let events = api::event_list(&state, &cam.camera, start, end)
        .await?
        .into_iter()
        .rev()
        .map(|e| EventItem {
            id: e.id,
            range: Span {
                from_us: e.start_us - pre,
                to_us: e.end_us + post,
                label: format!(
                    "{}, {}",
                    zone.time(e.start_us),
                    length(e.end_us - e.start_us)
                ),
            },
            zones: e.zones.join(", "),
        })
        .collect();
    let fps = state
        .running()
        .health
        .get(&(cam.camera.clone(), StreamKind::Main))
        .map_or(0.0, |h| (h.snapshot().fps * 100.0).round() / 100.0);
    let has_sub = state.live_hub(&cam.camera, Some(StreamKind::Sub)).is_some();
    let has_audio = state
        .running()
        .cfg
        .camera(&cam.camera)
        .is_some_and(|c| c.audio);
    let recording_off = state
        .running()
        .recording_off
        .get(&cam.camera)
        .map(|off| format!("since {} by {}", zone.date_time(off.since_us), off.by));
    let private = state
        .running()
        .private
        .get(&cam.camera)
        .map(|p| api::private_words(p, zone));
    let offsets = serde_json::to_string(&zone.offsets(day)).unwrap_or_else(|_| "[]".into());
    let d = |x: Option<NaiveDate>| {
        x.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    Ok(CameraPage {
        events,
        nav: Nav::of(&cam.authed),
        camera: cam.camera,
        day: d(Some(day)),
        day_label: day.format("%A %-d %B %Y").to_string(),
        prev_day: d(day.checked_sub_days(Days::new(1))),
        next_day: d(day.checked_add_days(Days::new(1))),
        today: day == today,
        zone: format!("{} ({})", zone.name(), zone.abbreviation(start)),
        zone_name: zone.name(),
        start_us: start,
        end_us: end,
        offsets,
        spans,
        fps,
        has_sub,
        has_audio,
        recording_off,
        private,
        privacy,
    })
}

/// An event in the events page's list.
pub struct EventCard {
    pub e: super::events::Listed,
    pub when: String,
    pub length: String,
    pub peak: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "events.html")]
pub struct EventsPage {
    pub nav: Nav,
    pub zone_name: &'static str,
    /// The cameras and zones the user may filter by.
    pub cameras: Vec<String>,
    pub zones: Vec<String>,
    pub camera: String,
    pub zone: String,
    pub from: String,
    pub to: String,
    pub items: Vec<EventCard>,
    /// The next page's query, when there may be one.
    pub older: Option<String>,
    /// Whether any filter is set (the empty list then says so).
    pub filtered: bool,
}

/// `GET /events`: every camera's events, newest first, filtered; new ones
/// arrive over `/api/events/stream`.
pub async fn events(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<super::events::EventQuery>,
) -> Result<EventsPage, WebError> {
    let list = super::events::list(&state, &a, &q).await?;
    let zone = state.zone;
    let older = (list.len() as i64 >= super::events::PAGE)
        .then(|| list.last())
        .flatten()
        .map(|e| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("camera", &q.camera),
                ("zone", &q.zone),
                ("from", &q.from),
                ("to", &q.to),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    query.append_pair(k, v);
                }
            }
            query.append_pair("before", &format!("{}.{}", e.start_us, e.id));
            query.finish()
        });
    let running = state.running();
    let visible: Vec<&crate::config::Camera> = running
        .cfg
        .cameras
        .iter()
        .filter(|c| super::auth::may_see(&state, &a.user, &c.name))
        .collect();
    let mut zones: Vec<String> = visible
        .iter()
        .flat_map(|c| c.motion.detector.zones.iter().map(|(n, _)| n.clone()))
        .collect();
    zones.sort();
    zones.dedup();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(EventsPage {
        zone_name: zone.name(),
        cameras: visible.iter().map(|c| c.name.clone()).collect(),
        zones,
        filtered: [&q.camera, &q.zone, &q.from, &q.to]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.is_empty())),
        camera: s(&q.camera),
        zone: s(&q.zone),
        from: s(&q.from),
        to: s(&q.to),
        items: list
            .into_iter()
            .map(|e| EventCard {
                when: zone.date_time(e.start_us),
                length: length(e.end_us - e.start_us),
                peak: format!("{:.0} %", f64::from(e.peak) * 100.0),
                e,
            })
            .collect(),
        older,
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
