//! Telling the house what Hearth sees, without any cloud: MQTT state and events
//! with Home Assistant discovery (`mqtt.rs`, its topics and payloads in
//! `topics.rs`, its queue in `outbox.rs`). Every connection goes out through
//! `egress`.

pub mod mqtt;
pub mod outbox;
pub mod topics;
