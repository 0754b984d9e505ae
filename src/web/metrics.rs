//! `/metrics` in Prometheus's text format: per camera and stream the frame
//! and bit rates, frames received, reconnects, what the recorder wrote, missed
//! and has queued, detection pictures, time and events; whether each camera is
//! private or recording; disk use and free space; retention's deletions;
//! refused logins; audit entries; the process's CPU and memory. Scraped by an
//! admin's session, or without one from this machine (a local Prometheus).
//! The text is built by [`Exposition`], pure.

use super::error::WebError;
use super::state::AppState;
use crate::ingest::health::Meters;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Metric families written one after another, each with its HELP and TYPE.
#[derive(Default)]
pub struct Exposition {
    text: String,
}

/// A label value as the format quotes it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    /// A family: its name, what it means, `counter` or `gauge`, and its samples
    /// as (labels, value).
    pub fn family(
        &mut self,
        name: &str,
        help: &str,
        kind: &str,
        samples: impl IntoIterator<Item = (Vec<(&'static str, String)>, f64)>,
    ) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", labels.join(","))
            };
            let _ = writeln!(self.text, "{name}{labels} {value}");
        }
    }

    /// One unlabelled sample.
    pub fn single(&mut self, name: &str, help: &str, kind: &str, value: f64) {
        self.family(name, help, kind, [(Vec::new(), value)]);
    }

    pub fn finish(self) -> String {
        self.text
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "counters as Prometheus's floats"
)]
fn f(v: u64) -> f64 {
    v as f64
}

/// `GET /metrics`
pub async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Response, WebError> {
    let running = state.running();
    let mut x = Exposition::default();
    x.family(
        "hearth_build_info",
        "Hearth's version, as a label.",
        "gauge",
        [(vec![("version", env!("CARGO_PKG_VERSION").to_owned())], 1.0)],
    );
    let streams: Vec<_> = running
        .health
        .iter()
        .map(|((cam, kind), h)| {
            let labels = vec![
                ("camera", cam.clone()),
                ("stream", kind.as_str().to_owned()),
            ];
            (labels, h.snapshot(), h)
        })
        .collect();
    let per_stream = |get: &dyn Fn(&crate::ingest::health::HealthSnapshot, &Meters) -> f64| {
        streams
            .iter()
            .map(|(l, s, h)| (l.clone(), get(s, &h.meters)))
            .collect::<Vec<_>>()
    };
    let m = |c: &std::sync::atomic::AtomicU64| f(Meters::get(c));
    x.family(
        "hearth_stream_up",
        "1 while the stream's RTSP session delivers.",
        "gauge",
        per_stream(&|s, _| f(u64::from(s.connected_since.is_some()))),
    );
    x.family(
        "hearth_stream_frames_per_second",
        "Video frames per second over the last 10 s.",
        "gauge",
        per_stream(&|s, _| (s.fps * 100.0).round() / 100.0),
    );
    x.family(
        "hearth_stream_bytes_per_second",
        "Video data rate over the last 10 s.",
        "gauge",
        per_stream(&|s, _| (s.bitrate_bps / 8.0).round()),
    );
    x.family(
        "hearth_stream_received_frames_total",
        "Video frames received.",
        "counter",
        per_stream(&|s, _| f(s.frames)),
    );
    x.family(
        "hearth_stream_received_bytes_total",
        "Video bytes received.",
        "counter",
        per_stream(&|s, _| f(s.bytes)),
    );
    x.family(
        "hearth_stream_reconnects_total",
        "RTSP sessions lost and tried again.",
        "counter",
        per_stream(&|s, _| f(s.reconnects)),
    );
    x.family(
        "hearth_recorder_frames_total",
        "Frames written to segment files and synced.",
        "counter",
        per_stream(&|_, mt| m(&mt.recorded_frames)),
    );
    x.family(
        "hearth_recorder_dropped_frames_total",
        "Frames the recorder missed because it fell behind.",
        "counter",
        per_stream(&|_, mt| m(&mt.dropped_frames)),
    );
    x.family(
        "hearth_recorder_failed_frames_total",
        "Frames lost to write errors (a full disk).",
        "counter",
        per_stream(&|_, mt| m(&mt.failed_frames)),
    );
    x.family(
        "hearth_recorder_queue_frames",
        "Frames waiting for the recorder.",
        "gauge",
        per_stream(&|_, mt| m(&mt.queued_frames)),
    );
    x.family(
        "hearth_detection_pictures_total",
        "Pictures motion detection analysed.",
        "counter",
        per_stream(&|_, mt| m(&mt.analysed_pictures)),
    );
    x.family(
        "hearth_detection_seconds_total",
        "Time spent decoding and analysing for motion detection.",
        "counter",
        per_stream(&|_, mt| m(&mt.detection_us) / 1e6),
    );
    x.family(
        "hearth_detection_hardware_decoding",
        "1 while motion detection decodes this stream with the board's hardware decoder.",
        "gauge",
        per_stream(&|_, mt| m(&mt.hardware_decoding)),
    );
    x.family(
        "hearth_motion_events_total",
        "Motion events detected.",
        "counter",
        per_stream(&|_, mt| m(&mt.events)),
    );
    let cams = |on: &dyn Fn(&str) -> bool| {
        running
            .cfg
            .cameras
            .iter()
            .map(|c| (vec![("camera", c.name.clone())], f(u64::from(on(&c.name)))))
            .collect::<Vec<_>>()
    };
    x.family(
        "hearth_camera_private",
        "1 while the camera is in privacy mode (not connected to).",
        "gauge",
        cams(&|c| running.private.contains_key(c)),
    );
    x.family(
        "hearth_camera_recording_switched_off",
        "1 while the camera's recording is switched off at run time.",
        "gauge",
        cams(&|c| running.recording_off.contains_key(c)),
    );
    let dir = running.cfg.storage.data_dir.clone();
    let (usage, audit, free) = state
        .blocking(move |s| {
            (
                s.store.usage_per_camera(),
                s.store.audit_head(),
                crate::record::retention::free_space(&dir),
            )
        })
        .await?;
    let usage = usage?;
    x.family(
        "hearth_recorded_bytes",
        "Bytes of recordings kept, per camera.",
        "gauge",
        usage
            .iter()
            .map(|u| (vec![("camera", u.camera.clone())], f(u.bytes))),
    );
    x.family(
        "hearth_recorded_segments",
        "Segment files kept, per camera.",
        "gauge",
        usage
            .iter()
            .map(|u| (vec![("camera", u.camera.clone())], f(u.segments))),
    );
    if let Ok(free) = free {
        x.single(
            "hearth_disk_free_bytes",
            "Free space on the recordings' file system.",
            "gauge",
            f(free),
        );
    }
    x.single(
        "hearth_retention_deleted_segments_total",
        "Segments retention deleted since the start.",
        "counter",
        f(crate::record::retention::DELETED_SEGMENTS.load(Ordering::Relaxed)),
    );
    x.single(
        "hearth_retention_deleted_bytes_total",
        "Bytes retention deleted since the start.",
        "counter",
        f(crate::record::retention::DELETED_BYTES.load(Ordering::Relaxed)),
    );
    x.single(
        "hearth_logins_refused_total",
        "Logins refused since the start (wrong credentials or rate limited).",
        "counter",
        f(state.logins_refused.load(Ordering::Relaxed)),
    );
    x.single(
        "hearth_audit_entries",
        "Entries in the audit log.",
        "gauge",
        f(audit?.map_or(0, |(id, _)| u64::try_from(id).unwrap_or(0))),
    );
    if let Ok(me) = crate::process_stats::read() {
        let hz = crate::process_stats::ticks_per_second().max(1);
        x.single(
            "process_cpu_seconds_total",
            "User and system CPU time of Hearth.",
            "counter",
            f(me.cpu_ticks) / f(hz),
        );
        x.single(
            "process_resident_memory_bytes",
            "Hearth's resident memory.",
            "gauge",
            f(me.rss_bytes),
        );
        x.single(
            "process_threads",
            "Hearth's threads.",
            "gauge",
            f(me.threads),
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        x.finish(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_type_and_escaped_labels() {
        let mut x = Exposition::default();
        x.family(
            "hearth_stream_up",
            "1 while up.",
            "gauge",
            [(vec![("camera", "a\"b\\c\nd".to_owned())], 1.0)],
        );
        x.single("hearth_audit_entries", "Entries.", "gauge", 42.0);
        assert_eq!(
            x.finish(),
            "# HELP hearth_stream_up 1 while up.\n# TYPE hearth_stream_up gauge\n\
             hearth_stream_up{camera=\"a\\\"b\\\\c\\nd\"} 1\n\
             # HELP hearth_audit_entries Entries.\n# TYPE hearth_audit_entries gauge\n\
             hearth_audit_entries 42\n"
        );
    }
}
