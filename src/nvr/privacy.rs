//! Privacy mode in the supervisor: each camera private by its schedule or by a
//! switch by hand (a user, a group's switch, MQTT), checked when either changes
//! and at the schedule's next edge. A private camera has no pipeline at all:
//! no RTSP session, nothing decoded, stored, shown live or detected. Every
//! change is audited and kept as a period in the index for the timeline.
//!
//! Going private does not wait for the audit log (it only takes access away;
//! a failure to audit it is logged as an error); leaving it does: nothing is
//! pulled again unless the audit log says so first.

use super::Supervisor;
use super::pipeline::Pipeline;
use crate::audit_record::{Record, action};
use crate::config::Camera;
use crate::privacy_schedule::Hand;
use crate::store::privacy::{Override, Period};
use crate::web::state::{PrivacyTarget, Private};
use std::time::Duration;

/// The longest wait between checks, so a wall clock that jumps is caught up.
const RECHECK: Duration = Duration::from_secs(60);

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn hand(o: &Override) -> Hand {
    Hand {
        private: o.private,
        since_us: o.since_us,
    }
}

impl Supervisor {
    /// Whether `camera` is private now (as last settled).
    pub(super) fn is_private(&self, camera: &str) -> bool {
        self.private.contains_key(camera)
    }

    /// What the web shows of each private camera.
    pub(super) fn private_view(&self) -> std::collections::BTreeMap<String, Private> {
        let zone = self.cfg.zone();
        let now = now_us();
        self.private
            .iter()
            .map(|(name, p)| {
                let until_us = self.cfg.camera(name).and_then(|c| {
                    let h = self.overrides.get(name).map(hand);
                    c.privacy_schedule.private_changes(zone, h.as_ref(), now)
                });
                (
                    name.clone(),
                    Private {
                        since_us: p.start_us,
                        by: p.started_by.clone(),
                        until_us,
                    },
                )
            })
            .collect()
    }

    /// Brings every camera to the privacy state its schedule and switches by
    /// hand ask for now, forgetting switches that no longer hold, and sets
    /// when to look again.
    pub(super) async fn settle_privacy(&mut self) {
        let zone = self.cfg.zone();
        let now = now_us();
        let mut next: Option<i64> = None;
        for cam in self.cfg.cameras.clone() {
            let s = &cam.privacy_schedule;
            if let Some(o) = self.overrides.get(&cam.name) {
                if s.hand_ends(zone, &hand(o)).is_some_and(|end| end <= now) {
                    if let Err(e) = self.keep_override(&cam.name, None).await {
                        tracing::warn!(camera = %cam.name, "cannot forget a privacy switch: {e}");
                    }
                }
            }
            let o = self.overrides.get(&cam.name).cloned();
            let h = o.as_ref().map(hand);
            let want = s.private_at(zone, h.as_ref(), now);
            if want != self.is_private(&cam.name) {
                let (by, why) = match &o {
                    Some(o) => (o.by.clone(), "switched by hand".to_owned()),
                    None => ("schedule".to_owned(), "by its privacy schedule".to_owned()),
                };
                if let Err(e) = self.set_private(&cam, want, &by, &why).await {
                    tracing::error!(camera = %cam.name, "privacy mode not changed: {e}");
                }
            }
            if let Some(t) = s.private_changes(zone, h.as_ref(), now) {
                next = Some(next.map_or(t, |n: i64| n.min(t)));
            }
        }
        let wait = next.map_or(RECHECK, |t| {
            Duration::from_micros(u64::try_from(t - now).unwrap_or(0)).min(RECHECK)
        });
        self.privacy_due = tokio::time::Instant::now() + wait;
    }

    /// Keeps `camera`'s switch by hand in the index and here, or forgets it.
    async fn keep_override(&mut self, camera: &str, o: Option<Override>) -> Result<(), String> {
        let (store, name, kept) = (self.shared.store.clone(), camera.to_owned(), o.clone());
        tokio::task::spawn_blocking(move || store.set_privacy_override(&name, kept.as_ref()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("privacy switch not kept in the index: {e}"))?;
        match o {
            Some(o) => self.overrides.insert(camera.to_owned(), o),
            None => self.overrides.remove(camera),
        };
        Ok(())
    }

    /// A switch by hand of `target` as `by`: kept until the camera's schedule
    /// next changes, then applied. Answers the cameras whose state changed.
    pub(super) async fn switch_privacy(
        &mut self,
        target: &PrivacyTarget,
        private: bool,
        by: &str,
    ) -> Result<Vec<String>, String> {
        let cams: Vec<Camera> = match target {
            PrivacyTarget::Camera(name) => match self.cfg.camera(name) {
                Some(c) => vec![c.clone()],
                None => return Err(format!("there is no camera {name:?}")),
            },
            PrivacyTarget::Group(g) => {
                let v: Vec<Camera> = self
                    .cfg
                    .cameras
                    .iter()
                    .filter(|c| c.privacy_groups.contains(g))
                    .cloned()
                    .collect();
                if v.is_empty() {
                    return Err(format!("no camera is in the privacy group {g:?}"));
                }
                v
            }
        };
        let why = match target {
            PrivacyTarget::Camera(_) => "switched by hand".to_owned(),
            PrivacyTarget::Group(g) => format!("switched with its group {g}"),
        };
        let mut changed = Vec::new();
        for cam in cams {
            // Kept first, so the next look at the schedule cannot undo the switch.
            let before = self.overrides.get(&cam.name).cloned();
            let o = Override {
                private,
                since_us: now_us(),
                by: by.to_owned(),
            };
            self.keep_override(&cam.name, Some(o)).await?;
            if self.is_private(&cam.name) != private {
                if let Err(e) = self.set_private(&cam, private, by, &why).await {
                    // Not switched: the switch by hand before it stands again.
                    if let Err(k) = self.keep_override(&cam.name, before).await {
                        tracing::error!(camera = %cam.name, "{k}");
                    }
                    return Err(e);
                }
                changed.push(cam.name.clone());
            }
        }
        self.settle_privacy().await;
        self.publish();
        Ok(changed)
    }

    /// Turns `cam`'s privacy mode on or off as `by`: audited, kept as a period,
    /// and the camera's pipeline stopped or started.
    async fn set_private(
        &mut self,
        cam: &Camera,
        private: bool,
        by: &str,
        why: &str,
    ) -> Result<(), String> {
        let now = now_us();
        let record = Record {
            user: Some(by.to_owned()),
            action: (if private {
                action::PRIVACY_ON
            } else {
                action::PRIVACY_OFF
            })
            .to_owned(),
            camera: Some(cam.name.clone()),
            detail: Some(why.to_owned()),
            ..Record::default()
        };
        let audit = self.audit.clone();
        let audited = tokio::task::spawn_blocking(move || audit.append(record))
            .await
            .map_err(|e| e.to_string())?;
        match audited {
            Ok(()) => {}
            Err(e) if private => tracing::error!(
                camera = %cam.name,
                "privacy mode goes on although the audit log cannot say so: {e:#}"
            ),
            Err(e) => return Err(format!("the audit log cannot be written: {e:#}")),
        }
        let (store, name, by_) = (self.shared.store.clone(), cam.name.clone(), by.to_owned());
        if let Err(e) =
            tokio::task::spawn_blocking(move || store.set_private(&name, private, &by_, now))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
        {
            // The switch holds all the same; only the timeline misses it.
            tracing::error!(camera = %cam.name, "privacy period not kept in the index: {e}");
        }
        if private {
            self.private.insert(
                cam.name.clone(),
                Period {
                    camera: cam.name.clone(),
                    start_us: now,
                    end_us: None,
                    started_by: by.to_owned(),
                    ended_by: None,
                },
            );
            if let Some(i) = self.pipelines.iter().position(|p| p.camera() == cam.name) {
                let p = self.pipelines.remove(i);
                self.stop(vec![p]).await;
            }
        } else {
            self.private.remove(&cam.name);
            if !self.pipelines.iter().any(|p| p.camera() == cam.name) {
                match Pipeline::start(&self.effective(cam), &self.shared).await {
                    Ok(p) => self.pipelines.push(p),
                    Err(e) => tracing::error!(camera = %cam.name, "cannot start the camera: {e:#}"),
                }
            }
        }
        tracing::info!(
            camera = %cam.name,
            "privacy mode {} ({why}, by {by})",
            if private { "on: nothing is pulled from the camera" } else { "off" }
        );
        self.publish();
        Ok(())
    }
}
