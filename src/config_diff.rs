//! What a reloaded config changes (pure): which cameras start, stop or start
//! again, and which settings only a restart can apply. The running config takes
//! the new cameras, retention and alert destinations; everything else stays as
//! it started.

use crate::config::{Camera, CameraAlerts, Config, Storage};

/// A reload's effect on the running config.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// Cameras in the new file only.
    pub added: Vec<String>,
    /// Cameras in the running config only.
    pub removed: Vec<String>,
    /// Cameras in both whose settings differ: stopped and started again.
    pub changed: Vec<String>,
    /// Keys that differ but apply only at the next start (e.g. `server.listen`).
    pub needs_restart: Vec<&'static str>,
    /// What runs from now on: the new cameras and retention, the rest as it was.
    pub effective: Config,
}

impl Diff {
    /// Nothing to stop or start and nothing waiting for a restart.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.needs_restart.is_empty()
    }
}

/// Whether a camera's pipeline must start again: any setting but its alerts
/// and its privacy settings (which the alert senders and the supervisor's
/// privacy check read as they go) differs.
fn pipeline_differs(a: &Camera, b: &Camera) -> bool {
    let plain = |c: &Camera| Camera {
        alerts: CameraAlerts::default(),
        privacy_schedule: Default::default(),
        privacy_groups: Vec::new(),
        notify_on_view: false,
        ..c.clone()
    };
    plain(a) != plain(b)
}

/// Compares the running config with a new one.
pub fn diff(running: &Config, new: &Config) -> Diff {
    let names = |c: &Config| c.cameras.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let added = names(new)
        .into_iter()
        .filter(|n| running.camera(n).is_none())
        .collect();
    let removed = names(running)
        .into_iter()
        .filter(|n| new.camera(n).is_none())
        .collect();
    let changed = running
        .cameras
        .iter()
        .filter(|c| new.camera(&c.name).is_some_and(|n| pipeline_differs(c, n)))
        .map(|c| c.name.clone())
        .collect();
    let (old, next) = (&running.storage, &new.storage);
    let mut needs_restart = Vec::new();
    let fixed: [(&'static str, bool); 7] = [
        ("storage.data_dir", old.data_dir != next.data_dir),
        (
            "storage.segment_duration",
            old.segment_duration != next.segment_duration,
        ),
        (
            "storage.fragment_duration",
            old.fragment_duration != next.fragment_duration,
        ),
        (
            "storage.flush_interval",
            old.flush_interval != next.flush_interval,
        ),
        ("storage.index_cache", old.index_cache != next.index_cache),
        (
            "storage.encryption_key_file",
            old.encryption_key_file != next.encryption_key_file,
        ),
        (
            "storage.retention_interval",
            old.retention_interval != next.retention_interval,
        ),
    ];
    needs_restart.extend(fixed.iter().filter(|(_, d)| *d).map(|(k, _)| *k));
    if running.mqtt != new.mqtt {
        needs_restart.push("mqtt");
    }
    if running.server != new.server {
        needs_restart.push("server");
    }
    let effective = Config {
        storage: Storage {
            max_age: next.max_age,
            continuous_max_age: next.continuous_max_age,
            motion_max_age: next.motion_max_age,
            event_max_age: next.event_max_age,
            max_bytes: next.max_bytes,
            min_free: next.min_free,
            ..old.clone()
        },
        server: running.server.clone(),
        cameras: new.cameras.clone(),
        mqtt: running.mqtt.clone(),
        link_base: new.link_base.clone(),
        webhooks: new.webhooks.clone(),
        push: new.push.clone(),
    };
    Diff {
        added,
        removed,
        changed,
        needs_restart,
        effective,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    fn cfg(text: &str) -> Config {
        Config::parse(text, Path::new("/etc/hearth/hearth.toml")).expect("config")
    }

    const BASE: &str = "[storage]\ndata_dir = \"d\"\n\n[server]\nlisten = \"127.0.0.1:8080\"\ntls = \"off\"\n\n\
        [[cameras]]\nname = \"a\"\nurl = \"rtsp://10.0.0.1/a\"\n\n\
        [[cameras]]\nname = \"b\"\nurl = \"rtsp://10.0.0.2/b\"\n";

    #[test]
    fn the_same_file_changes_nothing() {
        let d = diff(&cfg(BASE), &cfg(BASE));
        assert!(d.is_empty());
        assert_eq!(d.effective, cfg(BASE));
    }

    #[test]
    fn cameras_added_removed_and_changed_are_told_apart() {
        let new = BASE
            .replace("rtsp://10.0.0.2/b", "rtsp://10.0.0.2/b2")
            .replace(
                "name = \"a\"\nurl = \"rtsp://10.0.0.1/a\"",
                "name = \"c\"\nurl = \"rtsp://10.0.0.3/c\"",
            );
        let d = diff(&cfg(BASE), &cfg(&new));
        assert_eq!(d.added, ["c"]);
        assert_eq!(d.removed, ["a"]);
        assert_eq!(d.changed, ["b"]);
        assert!(d.needs_restart.is_empty());
        let names: Vec<_> = d
            .effective
            .cameras
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["c", "b"]);
    }

    #[test]
    fn a_changed_motion_setting_restarts_only_that_camera() {
        let new = format!("{BASE}\n[cameras.motion]\nsensitivity = 0.8\n");
        let d = diff(&cfg(BASE), &cfg(&new));
        assert_eq!(d.changed, ["b"]);
        assert!(d.added.is_empty() && d.removed.is_empty());
    }

    #[test]
    fn alert_settings_apply_without_restarting_a_camera() {
        let new = format!(
            "{BASE}\n[cameras.alerts]\ncooldown = \"10s\"\n\n[[push]]\nservice = \"ntfy\"\nurl = \"http://10.0.0.9/t\"\n"
        );
        let d = diff(&cfg(BASE), &cfg(&new));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.effective.push.len(), 1);
        assert_eq!(
            d.effective.cameras[1].alerts.cooldown,
            Duration::from_secs(10)
        );
    }

    #[test]
    fn server_and_storage_layout_wait_for_a_restart_but_retention_applies_now() {
        let new = BASE.replace("127.0.0.1:8080", "127.0.0.1:8081").replace(
            "data_dir = \"d\"",
            "data_dir = \"d\"\nsegment_duration = \"30s\"\nmax_age = \"3d\"",
        );
        let (old, new) = (cfg(BASE), cfg(&new));
        let d = diff(&old, &new);
        assert_eq!(d.needs_restart, ["storage.segment_duration", "server"]);
        assert!(d.added.is_empty() && d.changed.is_empty());
        // What runs: the old listen address and segment length, the new age limit.
        assert_eq!(d.effective.server, old.server);
        assert_eq!(
            d.effective.storage.segment_duration,
            old.storage.segment_duration
        );
        assert_eq!(d.effective.storage.max_age, new.storage.max_age);
    }
}
