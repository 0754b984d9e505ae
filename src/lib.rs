//! Hearth: a self-hosted network video recorder. The binary's CLI lives in
//! `main.rs`; everything it runs lives here so tests can reach it.

pub mod alerts;
pub mod audit_record;
pub mod cli;
pub mod config;
pub mod config_diff;
pub mod config_edit;
pub mod demo;
pub mod egress;
pub mod export_proof;
pub mod fakecam;
pub mod footage;
pub mod ingest;
pub mod key_cmd;
pub mod local_time;
pub mod media;
pub mod motion;
pub mod motion_settings;
pub mod nvr;
pub mod onvif;
pub mod privacy_schedule;
pub mod process_stats;
pub mod record;
pub mod seal;
pub mod security;
pub mod status_cmd;
pub mod store;
pub mod video_file;
pub mod view_receipts;
pub mod web;
