//! Where recordings live on disk: `recordings/<camera>/<stream>/<YYYY-MM-DD>/<HH-MM-SS>.mp4`
//! under the data directory, in UTC. Paths are built from validated names and
//! times only, never from request text.

use crate::config::StreamKind;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use std::path::{Path, PathBuf};

pub const RECORDINGS: &str = "recordings";
/// Exports kept on the server: `exports/<id>.mp4`.
pub const EXPORTS: &str = "exports";

/// The relative path of the export with index id `id`.
pub fn export_path(id: i64) -> String {
    format!("{EXPORTS}/{id}.mp4")
}

/// The relative path for a segment starting at `start_us`; `n` > 0 adds a suffix
/// for a second segment starting in the same second.
pub fn segment_path(camera: &str, stream: StreamKind, start_us: i64, n: u32) -> String {
    let t = DateTime::<Utc>::from_timestamp_micros(start_us).unwrap_or_default();
    let suffix = if n == 0 {
        String::new()
    } else {
        format!("-{n}")
    };
    format!(
        "{RECORDINGS}/{camera}/{stream}/{}/{}{suffix}.mp4",
        t.format("%Y-%m-%d"),
        t.format("%H-%M-%S")
    )
}

/// A relative path that this layout would produce, split into its parts:
/// camera, stream and the start time (to the second) named by the path.
pub fn parse_segment_path(rel: &str) -> Option<(String, StreamKind, i64)> {
    let parts: Vec<&str> = rel.split('/').collect();
    let [root, camera, stream, day, file] = parts.as_slice() else {
        return None;
    };
    if *root != RECORDINGS || !crate::config::valid_name(camera) {
        return None;
    }
    let stream = StreamKind::parse(stream)?;
    let stem = file.strip_suffix(".mp4")?;
    let hms = stem.get(..8)?;
    let rest = &stem[8..];
    if !(rest.is_empty()
        || rest
            .strip_prefix('-')
            .is_some_and(|n| n.parse::<u32>().is_ok()))
    {
        return None;
    }
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(hms, "%H-%M-%S").ok()?;
    let t = Utc.from_utc_datetime(&date.and_time(time));
    Some((camera.to_string(), stream, t.timestamp_micros()))
}

pub fn absolute(data_dir: &Path, rel: &str) -> PathBuf {
    data_dir.join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let us = 1_764_363_845_123_456; // 2025-11-28T21:04:05.123456Z
        let p = segment_path("front", StreamKind::Main, us, 0);
        assert_eq!(p, "recordings/front/main/2025-11-28/21-04-05.mp4");
        assert_eq!(
            parse_segment_path(&p),
            Some(("front".into(), StreamKind::Main, us - 123_456))
        );
        assert!(parse_segment_path(&segment_path("front", StreamKind::Main, us, 2)).is_some());
        assert!(parse_segment_path("recordings/../main/2025-11-28/21-04-05.mp4").is_none());
        assert!(parse_segment_path("recordings/a/b/2025-11-28/notes.mp4").is_none());
    }
}
