//! An audit log entry and its chained hash (pure): each entry's hash covers its
//! fields and the previous entry's hash. Below both the store (which appends an
//! entry and its hash in one transaction) and `security::audit_chain` (which
//! verifies the chain against anchors).

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The hash before the first entry.
pub const GENESIS: Hash = [0; 32];

/// What happened: one of a fixed set of actions.
pub mod action {
    pub const LOGIN: &str = "login";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const LOGOUT: &str = "logout";
    pub const PLAYBACK: &str = "playback";
    pub const EXPORT: &str = "export";
    /// An export kept on the server deleted (or cancelled) by its owner.
    pub const EXPORT_DELETE: &str = "export_delete";
    /// An export kept on the server downloaded: once per session and export in
    /// ten minutes (a player fetches in pieces).
    pub const EXPORT_DOWNLOAD: &str = "export_download";
    pub const LIVE_START: &str = "live_start";
    pub const LIVE_STOP: &str = "live_stop";
    /// Live stills (a wall tile that cannot play video): once per session and
    /// camera in ten minutes.
    pub const LIVE_STILL: &str = "live_still";
    /// Stills of recorded moments while a timeline is dragged: once per session
    /// and camera in ten minutes.
    pub const RECORDED_STILL: &str = "recorded_still";
    pub const SNAPSHOT: &str = "snapshot";
    pub const USER_ADD: &str = "user_add";
    pub const USER_REMOVE: &str = "user_remove";
    pub const PASSWORD_CHANGE: &str = "password_change";
    pub const PERMISSION_CHANGE: &str = "permission_change";
    pub const TOTP_ENABLED: &str = "totp_enabled";
    pub const TOTP_DISABLED: &str = "totp_disabled";
    /// An admin turned another user's second factor off.
    pub const TOTP_RESET: &str = "totp_reset";
    /// An admin ended one of another user's sessions.
    pub const SESSION_END: &str = "session_end";
    /// A one-time login link made on the server's machine (the demo's).
    pub const LOGIN_LINK: &str = "login_link";
    /// An admin added a camera to the config, changed one, or removed one
    /// (the detail says each key's before and after, and what became of
    /// the recordings).
    pub const CAMERA_ADD: &str = "camera_add";
    pub const CAMERA_CHANGE: &str = "camera_change";
    pub const CAMERA_REMOVE: &str = "camera_remove";
    /// A camera's connection tested by an admin (its still was shown).
    pub const CAMERA_TEST: &str = "camera_test";
    /// The detector's view of a camera with settings being tuned (its still was shown).
    pub const MOTION_PREVIEW: &str = "motion_preview";
    /// A picture of an event sent out of Hearth (a push, a webhook, MQTT), for
    /// a camera whose owner let pictures leave; the detail says where to.
    pub const PICTURE_SENT: &str = "picture_sent";
    /// A camera's recording switched off or on (by a user, or "mqtt").
    pub const RECORDING_OFF: &str = "recording_off";
    pub const RECORDING_ON: &str = "recording_on";
    /// A camera's privacy mode began or ended (by a user, "mqtt" or "schedule";
    /// the detail says why): nothing is pulled from it while it lasts.
    pub const PRIVACY_ON: &str = "privacy_on";
    pub const PRIVACY_OFF: &str = "privacy_off";

    /// Every action, for the audit page's filter.
    pub const ALL: &[&str] = &[
        LOGIN,
        LOGIN_FAILED,
        LOGOUT,
        PLAYBACK,
        EXPORT,
        EXPORT_DELETE,
        EXPORT_DOWNLOAD,
        LIVE_START,
        LIVE_STOP,
        LIVE_STILL,
        RECORDED_STILL,
        SNAPSHOT,
        USER_ADD,
        USER_REMOVE,
        PASSWORD_CHANGE,
        PERMISSION_CHANGE,
        TOTP_ENABLED,
        TOTP_DISABLED,
        TOTP_RESET,
        SESSION_END,
        LOGIN_LINK,
        CAMERA_ADD,
        CAMERA_CHANGE,
        CAMERA_REMOVE,
        CAMERA_TEST,
        MOTION_PREVIEW,
        PICTURE_SENT,
        RECORDING_OFF,
        RECORDING_ON,
        PRIVACY_ON,
        PRIVACY_OFF,
    ];
}

/// An entry's content, before it has an id and hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Record {
    pub time_us: i64,
    pub user: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub camera: Option<String>,
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    pub detail: Option<String>,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    #[serde(flatten)]
    pub record: Record,
    #[serde(skip)]
    pub prev_hash: Hash,
    #[serde(skip)]
    pub hash: Hash,
}

fn put_opt_str(h: &mut Sha256, v: &Option<String>) {
    match v {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

fn put_opt_i64(h: &mut Sha256, v: Option<i64>) {
    match v {
        None => h.update([0u8]),
        Some(n) => {
            h.update([1u8]);
            h.update(n.to_be_bytes());
        }
    }
}

/// The hash of entry `id` with content `r` following `prev`.
pub fn hash(prev: &Hash, id: i64, r: &Record) -> Hash {
    let mut h = Sha256::new();
    h.update(b"hearth-audit-v1");
    h.update(prev);
    h.update(id.to_be_bytes());
    h.update(r.time_us.to_be_bytes());
    put_opt_str(&mut h, &r.user);
    put_opt_str(&mut h, &r.address);
    put_opt_str(&mut h, &Some(r.action.clone()));
    put_opt_str(&mut h, &r.camera);
    put_opt_i64(&mut h, r.from_us);
    put_opt_i64(&mut h, r.to_us);
    put_opt_str(&mut h, &r.detail);
    h.finalize().into()
}
