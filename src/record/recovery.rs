//! Index against disk: finds what a crash or a hand left inconsistent and, when
//! asked, repairs it. Start-up runs it with repair on; `hearth verify` without.
//!
//! Repairs: a torn trailing fragment is cut off; an open segment is re-derived
//! from its file and closed; a file with no index row is indexed; a row whose file
//! vanished is removed; a half-finished deletion is finished.

use super::dir_sync;
use super::layout::{self, RECORDINGS};
use crate::footage::Footage;
use crate::media::fmp4::codec_string;
use crate::media::reader::{self, ParsedFile};
use crate::store::{
    AudioTrackInfo, FragIndex, NewSegment, Progress, SegmentClass, SegmentRow, SegmentState, Store,
};
use std::io::BufReader;
use std::path::Path;

/// What a check found, and what it repaired.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<String>,
    pub segments: usize,
    /// Unreadable files moved aside (`.mp4.corrupt`), relative to the data dir:
    /// never indexed or played, kept for the owner to inspect or delete.
    pub quarantined: Vec<String>,
}

impl Report {
    fn problem(&mut self, s: String) {
        tracing::warn!("{s}");
        self.problems.push(s);
    }
}

/// The suffix a quarantined file gets.
pub const QUARANTINE: &str = "mp4.corrupt";

/// Moves an unreadable file aside so nothing reads it again; a failure to do so
/// is logged, not fatal (the file stays unindexed either way).
fn quarantine(path: &Path, rel: &str, why: &str, report: &mut Report) {
    let to = path.with_extension(QUARANTINE);
    match std::fs::rename(path, &to).and_then(|_| dir_sync::sync_parent(&to)) {
        Ok(()) => {
            tracing::warn!("{rel}: unreadable ({why}); moved aside to .{QUARANTINE}");
            report.quarantined.push(format!("{rel}.corrupt"));
        }
        Err(e) => tracing::error!("{rel}: unreadable ({why}) and cannot be moved aside: {e}"),
    }
}

/// The index entry a parsed file deserves; an error when the index cannot hold
/// it (a fragment beyond 13 h into the segment, or of more than 65,535 frames:
/// never written by Hearth, so the file is not one to trust).
pub fn progress_of(p: &ParsedFile) -> Result<Progress, String> {
    let base = p.fragments.first().map_or(0, |f| f.decode_time);
    let fragments = p
        .fragments
        .iter()
        .map(|f| {
            Ok(FragIndex {
                start_90k: f
                    .decode_time
                    .checked_sub(base)
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or("a fragment starts beyond 13 h into the segment")?,
                frames: u16::try_from(f.samples.len())
                    .map_err(|_| "a fragment of more than 65,535 frames")?,
                key: f.starts_with_key(),
                offset: f.offset,
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    Ok(Progress {
        duration_90k: p.duration(),
        bytes: p.valid_len,
        frames: p.frames(),
        fragments,
    })
}

/// A file parsed, with the index entry it deserves and what checking its
/// sealed chunks found.
fn parse_file(
    footage: &Footage,
    path: &Path,
) -> Result<(ParsedFile, Progress, crate::footage::Checked), String> {
    let (f, checked) = footage.open_checked(path).map_err(|e| e.to_string())?;
    let parsed = reader::parse(&mut BufReader::new(f)).map_err(|e| e.to_string())?;
    let progress = progress_of(&parsed)?;
    Ok((parsed, progress, checked))
}

/// Removes a file that holds no video, durably.
fn remove(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    dir_sync::sync_parent(path)
}

/// How much to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every segment and every file (`hearth verify`).
    Full,
    /// What a crash can have left (start-up): unfinished segments, and files of
    /// today and yesterday (UTC) that the index lacks.
    Recent,
}

/// Checks segments and files; with `repair`, fixes what it finds.
pub fn check(footage: &Footage, repair: bool, scope: Scope) -> anyhow::Result<Report> {
    let (data_dir, store) = (footage.dir(), &**footage.store());
    let mut report = Report::default();
    let rows = match scope {
        Scope::Full => store.all_segments()?,
        Scope::Recent => store.unfinished_segments()?,
    };
    for row in &rows {
        check_row(footage, row, repair, &mut report)?;
    }
    let root = data_dir.join(RECORDINGS);
    let mut files = Vec::new();
    if root.is_dir() {
        match scope {
            Scope::Full => walk(&root, &mut files)?,
            Scope::Recent => {
                let today = chrono::Utc::now().date_naive();
                let days: Vec<String> = [today, today.pred_opt().unwrap_or(today)]
                    .iter()
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .collect();
                // recordings/<camera>/<stream>/<day>
                for cam in std::fs::read_dir(&root)? {
                    let cam = cam?.path();
                    if !cam.is_dir() {
                        continue;
                    }
                    for stream in std::fs::read_dir(&cam)? {
                        let stream = stream?.path();
                        for day in &days {
                            let d = stream.join(day);
                            if d.is_dir() {
                                walk(&d, &mut files)?;
                            }
                        }
                    }
                }
            }
        }
    }
    files.sort();
    for path in files {
        let Ok(rel) = path.strip_prefix(data_dir) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.ends_with(QUARANTINE) {
            report.quarantined.push(rel);
            continue;
        }
        if !rel.ends_with(".mp4") || store.segment_by_path(&rel)?.is_some() {
            continue;
        }
        let Some((camera, stream, start_us)) = layout::parse_segment_path(&rel) else {
            tracing::warn!("{rel}: not a name Hearth writes; left alone");
            continue;
        };
        report.problem(format!("{rel}: file is not in the index"));
        if !repair {
            continue;
        }
        match parse_file(footage, &path) {
            Ok((p, progress, checked)) if !p.fragments.is_empty() => {
                if let Some(d) = &checked.damaged {
                    report.problem(format!("{rel}: {d}"));
                }
                if p.is_torn() || checked.unfinished {
                    footage.cut_to(&path, p.valid_len)?;
                }
                let key_id = footage.key_id_of(&path)?;
                let stream_id = store.stream_id(&camera, stream)?;
                let entry = &p.sample_entries[0];
                let id = store.insert_segment(&NewSegment {
                    stream_id,
                    start_us,
                    path: rel.clone(),
                    codec: codec_string(entry),
                    width: p.width,
                    height: p.height,
                    sample_entry: entry.clone(),
                    audio: p.audio.as_ref().map(|a| AudioTrackInfo {
                        sample_entry: a.sample_entries[0].clone(),
                        timescale: a.timescale,
                    }),
                    bytes: p.valid_len,
                    // Which mode wrote it is not in the file; motion footage is
                    // the class usually kept longer, so nothing goes early.
                    class: SegmentClass::Motion,
                    key_id,
                })?;
                store.update_segment(id, &progress, SegmentState::Complete)?;
                report.segments += 1;
            }
            Ok(_) => {
                // Only an init segment: no video to keep.
                remove(&path)?;
            }
            Err(e) => quarantine(&path, &rel, &e, &mut report),
        }
    }
    Ok(report)
}

fn check_row(
    footage: &Footage,
    row: &SegmentRow,
    repair: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    let store: &Store = footage.store();
    let path = layout::absolute(footage.dir(), &row.path);
    let rel = &row.path;
    if row.state == SegmentState::Deleting {
        report.problem(format!("{rel}: deletion was interrupted"));
        if repair {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {
                    dir_sync::sync_parent(&path)?;
                    store.delete_segments(&[row.id])?
                }
            }
        }
        return Ok(());
    }
    if !path.exists() {
        report.problem(format!("{rel}: file is missing"));
        if repair {
            store.delete_segments(&[row.id])?;
        }
        return Ok(());
    }
    let (parsed, derived, checked) = match parse_file(footage, &path) {
        Ok(p) => p,
        Err(e) => {
            report.problem(format!("{rel}: unreadable: {e}"));
            if repair {
                quarantine(&path, rel, &e, report);
                store.delete_segments(&[row.id])?;
            }
            return Ok(());
        }
    };
    report.segments += 1;
    let mut issues = Vec::new();
    if row.state == SegmentState::Open {
        issues.push("was left open (unclean stop)".to_owned());
    }
    if parsed.is_torn() {
        issues.push(format!(
            "torn tail: {} bytes after the last whole fragment",
            parsed.file_len - parsed.valid_len
        ));
    }
    if let Some(d) = &checked.damaged {
        issues.push(d.clone());
    }
    let unfinished = checked.unfinished && row.state == SegmentState::Complete;
    if unfinished {
        issues.push("sealed file ends before its final chunk (cut short)".to_owned());
    }
    if row.state == SegmentState::Complete && derived != row.progress {
        issues.push(format!(
            "index says {} frames, {} bytes, {} fragments; file has {} frames, {} bytes, {} fragments",
            row.progress.frames,
            row.progress.bytes,
            row.progress.fragments.len(),
            derived.frames,
            derived.bytes,
            derived.fragments.len()
        ));
    }
    if parsed.fragments.is_empty() {
        issues.push("holds no video".to_owned());
    }
    if issues.is_empty() {
        return Ok(());
    }
    report.problem(format!("{rel}: {}", issues.join("; ")));
    if repair {
        if parsed.fragments.is_empty() {
            remove(&path)?;
            store.delete_segments(&[row.id])?;
            return Ok(());
        }
        if parsed.is_torn() || checked.unfinished {
            footage.cut_to(&path, parsed.valid_len)?;
        }
        store.update_segment(row.id, &derived, SegmentState::Complete)?;
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            walk(&e.path(), out)?;
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}
