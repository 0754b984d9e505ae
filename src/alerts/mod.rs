//! Telling the house what Hearth sees, without any cloud: MQTT state and events
//! with Home Assistant discovery (`mqtt.rs`, its topics and payloads in
//! `topics.rs`, its queue in `outbox.rs`), and webhooks and pushes to the
//! owner's servers (`dispatch.rs` deciding with `rules.rs`, the requests in
//! `requests.rs`, sent by `delivery.rs`). Every connection goes out through
//! `egress`.

pub mod delivery;
pub mod dispatch;
pub mod mqtt;
pub mod outbox;
pub mod requests;
pub mod rules;
pub mod topics;

/// Ends when `shutdown` becomes true (its guard not held across the caller's awaits).
async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&s| s).await;
}
