//! `hearth status`: asks the Hearth running on a config how it is (through the
//! socket in its data directory) and prints it, a line per camera stream, or
//! the JSON as it came. Exits 1 when no Hearth answers there.

use crate::config::Config;
use serde_json::Value;
use std::process::ExitCode;

pub fn status(cfg: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let path = crate::nvr::status::socket_path(&cfg.storage.data_dir);
    let text = match crate::egress::local::ask_status(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "hearth: no Hearth answers at {} ({e}): it is not running on this config",
                path.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let v: Value = serde_json::from_str(&text)?;
    print!("{}", render(&v));
    Ok(ExitCode::SUCCESS)
}

fn duration(s: u64) -> String {
    match s {
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The state in lines (pure).
pub fn render(v: &Value) -> String {
    let mut out = format!(
        "Hearth {}, up {}, recording into {}\n",
        v["version"].as_str().unwrap_or("?"),
        duration(v["uptime_s"].as_u64().unwrap_or(0)),
        v["data_dir"].as_str().unwrap_or("?")
    );
    for c in v["cameras"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("?");
        let mut notes = Vec::new();
        if let Some(by) = c["private"]["by"].as_str() {
            notes.push(format!("private (by {by}): not connected to"));
        }
        if let Some(by) = c["recording_off"]["by"].as_str() {
            notes.push(format!("recording switched off by {by}"));
        }
        out.push_str(&format!(
            "{name}: record {}{}\n",
            c["record"].as_str().unwrap_or("?"),
            notes.iter().map(|n| format!(", {n}")).collect::<String>()
        ));
        for s in c["streams"].as_array().into_iter().flatten() {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            let state = if s["connected"].as_bool() == Some(true) {
                format!(
                    "connected, {} fps, {:.0} kbit/s",
                    s["fps"].as_f64().unwrap_or(0.0),
                    s["bitrate_bps"].as_f64().unwrap_or(0.0) / 1000.0
                )
            } else {
                format!(
                    "not connected ({})",
                    s["last_error"].as_str().unwrap_or("connecting")
                )
            };
            out.push_str(&format!(
                "  {}: {state}; {} reconnects, {} frames recorded, {} missed, {} lost to errors, {} pictures analysed{}, {} events\n",
                s["stream"].as_str().unwrap_or("?"),
                n("reconnects"),
                n("recorded_frames"),
                n("dropped_frames"),
                n("failed_frames"),
                n("analysed_pictures"),
                if s["hardware_decoding"].as_bool() == Some(true) {
                    " (hardware decoding)"
                } else {
                    ""
                },
                n("events"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_reads_as_a_line_per_stream() {
        let v = serde_json::json!({
            "version": "0.1.0", "uptime_s": 3725, "data_dir": "/var/lib/hearth",
            "cameras": [
                {"name": "front", "record": "continuous", "private": null, "recording_off": null,
                 "streams": [{"stream": "main", "connected": true, "fps": 15.0, "bitrate_bps": 1366000.0,
                              "reconnects": 2, "recorded_frames": 900, "dropped_frames": 0,
                              "failed_frames": 0, "analysed_pictures": 300, "events": 1}]},
                {"name": "den", "record": "motion", "private": {"by": "schedule"}, "streams": []}
            ]
        });
        assert_eq!(
            render(&v),
            "Hearth 0.1.0, up 1 h 2 min, recording into /var/lib/hearth\n\
             front: record continuous\n  \
             main: connected, 15 fps, 1366 kbit/s; 2 reconnects, 900 frames recorded, 0 missed, \
             0 lost to errors, 300 pictures analysed, 1 events\n\
             den: record motion, private (by schedule): not connected to\n"
        );
    }
}
