//! The system page (admins): the disk and how long it lasts at the current
//! rate, each camera's footage and stream health, what retention deletes next,
//! and this process's CPU, memory and threads. The page refreshes its figures
//! from `/api/system`, which answers the same cells by key.

use super::auth::Admin;
use super::error::WebError;
use super::pages::{Nav, human_bytes};
use super::state::AppState;
use crate::process_stats;
use crate::record::retention::{self, Policy};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use std::collections::BTreeMap;
use std::time::Instant;

/// The rate of filling the disk is measured over this much recent recording.
const RATE_WINDOW_US: i64 = 3600 * 1_000_000;
const DAY_US: f64 = 86_400e6;

/// A figure on the page, with the key `/api/system` refreshes it by.
pub struct Cell {
    pub key: String,
    pub text: String,
}

fn cell(key: impl Into<String>, text: impl Into<String>) -> Cell {
    Cell {
        key: key.into(),
        text: text.into(),
    }
}

pub struct CameraRow {
    pub name: String,
    pub used: String,
    pub oldest: String,
    pub rate: String,
    /// One row per stream: state, fps, bit rate, reconnects, last error.
    pub streams: Vec<(String, Vec<Cell>)>,
}

pub struct System {
    pub data_dir: String,
    /// Encryption at rest: on (with the master key's fingerprint) or off.
    pub encryption: String,
    /// The key export bundles are signed with (base64), and its fingerprint.
    pub signing_key: String,
    pub signing_fingerprint: String,
    pub disk: Vec<Cell>,
    pub cameras: Vec<CameraRow>,
    pub next_deletion: String,
    pub process: Vec<Cell>,
}

/// Bytes per day from `bytes` recorded over the last `span_us` (at least a
/// minute, at most the window).
pub fn per_day(bytes: u64, span_us: i64) -> f64 {
    let span = span_us.clamp(60_000_000, RATE_WINDOW_US) as f64;
    bytes as f64 * DAY_US / span
}

/// Days until the disk's spare room (free less the floor) is full at
/// `bytes_per_day`; `None` when nothing is being recorded.
pub fn days_left(free: u64, floor: u64, bytes_per_day: f64) -> Option<f64> {
    (bytes_per_day > 0.0).then(|| free.saturating_sub(floor) as f64 / bytes_per_day)
}

/// Bytes per day in words.
#[allow(clippy::cast_possible_truncation)] // a whole number of bytes is all it shows
fn rate_text(bytes_per_day: f64) -> String {
    format!(
        "{}/day",
        human_bytes(&(bytes_per_day.max(0.0).round() as u64))
    )
}

fn days(d: f64) -> String {
    match d {
        d if d >= 2.0 => format!("{d:.0} days"),
        d if d * 24.0 >= 2.0 => format!("{:.0} hours", d * 24.0),
        d => format!("{:.0} minutes", d * 1440.0),
    }
}

/// CPU % since the previous look (any client's), kept when looks come quicker
/// than a second apart.
fn cpu_percent(state: &AppState, now: process_stats::Sample) -> f64 {
    let mut last = state.cpu_sample.lock().unwrap_or_else(|p| p.into_inner());
    let at = Instant::now();
    let (was_at, was_ticks, was_pct) = last.unwrap_or((state.started, 0, 0.0));
    let secs = at.duration_since(was_at).as_secs_f64();
    if secs < 1.0 && last.is_some() {
        return was_pct;
    }
    let pct = process_stats::cpu_percent(
        was_ticks,
        now.cpu_ticks,
        secs,
        process_stats::ticks_per_second(),
    );
    *last = Some((at, now.cpu_ticks, pct));
    pct
}

async fn gather(state: &AppState) -> Result<System, WebError> {
    let zone = state.zone;
    let (usage, recent, free, next) = state
        .blocking(move |s| -> Result<_, WebError> {
            let dir = &s.running().cfg.storage.data_dir;
            let now = chrono::Utc::now().timestamp_micros();
            let usage = s.store.usage_per_camera()?;
            let recent = s.store.bytes_since(now - RATE_WINDOW_US)?;
            let recent = recent
                .into_iter()
                .map(|(cam, (bytes, first))| (cam, per_day(bytes, now - first)))
                .collect::<std::collections::HashMap<_, _>>();
            let free = retention::free_space(dir)
                .map_err(|e| WebError::Internal(format!("free space of {}: {e}", dir.display())))?;
            // The oldest recording, and when the age limit takes it.
            let policy = Policy::of(&s.running().cfg);
            let next = s
                .store
                .oldest_segments(1)?
                .into_iter()
                .min_by_key(|r| r.start_us)
                .map(|r| {
                    let when = policy.max_age_of(r.class).map_or_else(
                        || "when the disk runs short (no age limit is set)".to_owned(),
                        |age| {
                            format!(
                                "on {} when it is older than the age limit, or sooner if the disk runs short",
                                zone.date_time(r.end_us + age)
                            )
                        },
                    );
                    format!(
                        "{}'s recording of {} – {}, {}",
                        r.camera,
                        zone.date_time(r.start_us),
                        zone.time(r.end_us),
                        when
                    )
                });
            Ok((usage, recent, free, next))
        })
        .await??;
    let floor = state.running().cfg.storage.min_free;
    let total_rate: f64 = recent.values().sum();
    let disk = vec![
        cell("free", human_bytes(&free)),
        cell("floor", human_bytes(&floor)),
        cell(
            "lasts",
            days_left(free, floor, total_rate).map_or_else(
                || "nothing is being recorded".to_owned(),
                |d| {
                    format!(
                        "{} at the current rate ({}/day)",
                        days(d),
                        rate_text(total_rate)
                    )
                },
            ),
        ),
    ];
    let mut cameras = Vec::new();
    for c in &state.running().cfg.cameras {
        let u = usage.iter().find(|u| u.camera == c.name);
        let mut streams = Vec::new();
        for ((cam, kind), h) in &state.running().health {
            if *cam != c.name {
                continue;
            }
            let h = h.snapshot();
            let k = |f: &str| format!("{cam}/{}/{f}", kind.as_str());
            streams.push((
                kind.as_str().to_owned(),
                vec![
                    cell(
                        k("state"),
                        if h.connected_since.is_some() {
                            "connected"
                        } else {
                            "not connected"
                        },
                    ),
                    cell(k("fps"), format!("{:.1}", h.fps)),
                    cell(k("kbps"), format!("{:.0}", h.bitrate_bps / 1000.0)),
                    cell(k("reconnects"), h.reconnects.to_string()),
                    cell(k("error"), h.last_error.unwrap_or_default()),
                ],
            ));
        }
        cameras.push(CameraRow {
            name: c.name.clone(),
            used: human_bytes(&u.map_or(0, |u| u.bytes)),
            oldest: u.map_or_else(
                || "nothing yet".into(),
                |u| {
                    format!(
                        "{} ({} kept)",
                        zone.date_time(u.oldest_us),
                        days((u.newest_us - u.oldest_us) as f64 / DAY_US)
                    )
                },
            ),
            rate: rate_text(recent.get(&c.name).copied().unwrap_or(0.0)),
            streams,
        });
    }
    let me =
        process_stats::read().map_err(|e| WebError::Internal(format!("process figures: {e}")))?;
    let process = vec![
        cell(
            "cpu",
            format!("{:.1} % of one core", cpu_percent(state, me)),
        ),
        cell("rss", human_bytes(&me.rss_bytes)),
        cell("threads", me.threads.to_string()),
        cell(
            "uptime",
            days(state.started.elapsed().as_secs_f64() / 86_400.0),
        ),
    ];
    Ok(System {
        data_dir: state.running().cfg.storage.data_dir.display().to_string(),
        encryption: match state.footage.master_fingerprint() {
            Some(f) => format!("on: new footage is sealed (master key {f})"),
            None => "off: footage is written plain ([storage] encryption_key_file)".into(),
        },
        signing_key: state.signing.public_b64(),
        signing_fingerprint: state.signing.fingerprint(),
        disk,
        cameras,
        next_deletion: next.unwrap_or_else(|| "nothing: no finished recordings yet".into()),
        process,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "system.html")]
pub struct SystemPage {
    pub nav: Nav,
    pub zone: &'static str,
    pub s: System,
}

/// `GET /system`
pub async fn page(State(state): State<AppState>, admin: Admin) -> Result<SystemPage, WebError> {
    Ok(SystemPage {
        nav: Nav::of(&admin.0),
        zone: state.zone.name(),
        s: gather(&state).await?,
    })
}

/// `GET /api/system`: every figure of the page by its key.
pub async fn api(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<BTreeMap<String, String>>, WebError> {
    let s = gather(&state).await?;
    let cells = s.disk.into_iter().chain(s.process).chain(
        s.cameras
            .into_iter()
            .flat_map(|c| c.streams.into_iter().flat_map(|(_, cells)| cells)),
    );
    Ok(Json(cells.map(|c| (c.key, c.text)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disk_lasts_its_spare_room_over_the_rate() {
        assert_eq!(days_left(10_000, 2_000, 1_000.0), Some(8.0));
        assert_eq!(days_left(1_000, 2_000, 1_000.0), Some(0.0));
        assert_eq!(days_left(10_000, 0, 0.0), None);
        assert_eq!(per_day(1_000, 3_600_000_000), 24_000.0);
        assert_eq!(per_day(1_000, 10_000_000), 1_440_000.0, "a minute at least");
        assert_eq!(
            per_day(1_000, 7_200_000_000),
            24_000.0,
            "the window at most"
        );
        assert_eq!(days(8.0), "8 days");
        assert_eq!(days(0.5), "12 hours");
        assert_eq!(days(0.01), "14 minutes");
    }
}
