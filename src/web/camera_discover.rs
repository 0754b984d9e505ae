//! Finding cameras for the admin's camera form: a WS-Discovery probe on this
//! machine's interfaces, and the stream URLs of a device found, asked with the
//! credentials the admin types. The streams are asked only of a device the
//! last search found (by its number, never a URL from the browser).

use super::auth::Admin;
use super::error::WebError;
use super::state::AppState;
use crate::onvif::discover::{self, Device};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::Ipv4Addr;
use std::time::Duration;

/// How long answers to a probe are gathered.
const LISTEN: Duration = Duration::from_millis(2500);

#[derive(Deserialize)]
pub struct DiscoverAsk {
    /// One of this machine's addresses to search from, or "all": every
    /// interface but loopback.
    pub interface: String,
}

/// `POST /api/admin/onvif/discover`: the devices that answer a probe.
pub async fn discover(
    State(state): State<AppState>,
    _admin: Admin,
    Json(ask): Json<DiscoverAsk>,
) -> Result<Json<Value>, WebError> {
    let found = state
        .blocking(move |s| -> Result<Vec<Device>, WebError> {
            let mine = discover::interfaces();
            let on: Vec<Ipv4Addr> = match ask.interface.as_str() {
                "all" => mine.into_iter().filter(|ip| !ip.is_loopback()).collect(),
                text => match text.parse::<Ipv4Addr>() {
                    Ok(ip) if mine.contains(&ip) => vec![ip],
                    _ => {
                        return Err(WebError::BadRequest(format!(
                            "interface: {text:?} is not \"all\" or an address of this machine"
                        )));
                    }
                },
            };
            let found = discover::discover(&on, LISTEN)
                .map_err(|e| WebError::Internal(format!("cannot send the ONVIF probe: {e}")))?;
            *s.onvif_found.lock().unwrap_or_else(|p| p.into_inner()) = found.clone();
            Ok(found)
        })
        .await??;
    Ok(Json(json!({ "devices": found })))
}

#[derive(Deserialize)]
pub struct StreamsAsk {
    /// The device's place in the last search's list.
    pub device: usize,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// `POST /api/admin/onvif/streams`: a found device's streams (largest first).
pub async fn streams(
    State(state): State<AppState>,
    _admin: Admin,
    Json(ask): Json<StreamsAsk>,
) -> Result<Json<Value>, WebError> {
    let device = state
        .onvif_found
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(ask.device)
        .cloned()
        .ok_or_else(|| {
            WebError::BadRequest("device: not in the last search; search again".into())
        })?;
    let got = state
        .blocking(move |_| discover::streams(&device, &ask.username, &ask.password))
        .await?;
    Ok(Json(match got {
        Ok(streams) => json!({ "ok": true, "streams": streams }),
        Err(e) => json!({ "ok": false, "error": e }),
    }))
}
