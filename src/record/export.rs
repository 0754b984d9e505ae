//! Export and playback ranges: stitches the fragments of a time range, across
//! segments, into one fragmented MP4, from the key frame at or before the start,
//! without decoding. Decode times keep real time, so gaps stay gaps.

use super::layout;
use crate::media::fmp4::{Sample, fragment_header, init_segment};
use crate::media::reader::parse_moof;
use crate::store::Store;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no recordings of camera {camera:?} in that range")]
    Empty { camera: String },
    #[error("the range is empty: --to must be after --from")]
    BadRange,
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("writing the export: {0}")]
    Write(std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub frames: u64,
    pub first_us: i64,
    /// Start time of the last frame written.
    pub last_us: i64,
    pub bytes: u64,
}

fn us_to_90k(us: i64) -> i64 {
    (us * 9 + 50) / 100
}

/// Writes `[from_us, to_us)` of a camera stream to `out`.
pub fn export(
    data_dir: &Path,
    store: &Store,
    camera: &str,
    stream: &str,
    from_us: i64,
    to_us: i64,
    out: &mut impl Write,
) -> Result<ExportSummary, ExportError> {
    if to_us <= from_us {
        return Err(ExportError::BadRange);
    }
    let segs = store.segments_between(camera, stream, from_us, to_us)?;
    let mut entries: Vec<&[u8]> = Vec::new();
    for s in &segs {
        if !entries.contains(&s.sample_entry.as_slice()) {
            entries.push(&s.sample_entry);
        }
    }
    let first = segs.first().ok_or_else(|| ExportError::Empty {
        camera: camera.to_owned(),
    })?;
    let init = init_segment(&entries, first.width, first.height);
    out.write_all(&init).map_err(ExportError::Write)?;
    let mut sum = ExportSummary {
        frames: 0,
        first_us: 0,
        last_us: 0,
        bytes: init.len() as u64,
    };
    let mut origin_90k: Option<i64> = None;
    let mut sequence = 0;
    for seg in &segs {
        let sdi = entries
            .iter()
            .position(|e| *e == seg.sample_entry.as_slice())
            .map_or(1, |i| i as u32 + 1);
        let file_err = |message: String| ExportError::File {
            path: seg.path.clone(),
            message,
        };
        let mut file = File::open(layout::absolute(data_dir, &seg.path))
            .map_err(|e| file_err(e.to_string()))?;
        let seg_start_90k = us_to_90k(seg.start_us);
        let frags = &seg.progress.fragments;
        // The first fragment: the last key fragment at or before `from` in this segment.
        let from_rel = us_to_90k(from_us) - seg_start_90k;
        let begin = if origin_90k.is_some() {
            0
        } else {
            frags
                .iter()
                .rposition(|f| f.key && i64::from(f.start_90k) <= from_rel)
                .or_else(|| frags.iter().position(|f| f.key))
                .unwrap_or(frags.len())
        };
        for (i, fi) in frags.iter().enumerate().skip(begin) {
            let end = frags.get(i + 1).map_or(seg.progress.bytes, |n| n.offset);
            let frag_time = seg_start_90k + i64::from(fi.start_90k);
            if frag_time >= us_to_90k(to_us) {
                break;
            }
            let mut buf = vec![0u8; (end - fi.offset) as usize];
            file.seek(SeekFrom::Start(fi.offset))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(|e| file_err(e.to_string()))?;
            let moof_len = u32::from_be_bytes(buf[..4].try_into().unwrap_or_default()) as usize;
            let frag = buf
                .get(8..moof_len)
                .ok_or_else(|| file_err("fragment index points outside a fragment".into()))
                .and_then(|b| parse_moof(b, 0).map_err(|e| file_err(e.to_string())))?;
            let origin = *origin_90k.get_or_insert(frag_time);
            let mut kept: Vec<Sample> = Vec::new();
            let mut t = frag_time;
            for s in &frag.samples {
                if t >= us_to_90k(to_us) {
                    break;
                }
                if sum.frames == 0 {
                    sum.first_us = t * 100 / 9;
                }
                sum.last_us = t * 100 / 9;
                sum.frames += 1;
                kept.push(*s);
                t += i64::from(s.duration);
            }
            let data_start = frag.data_offset as usize;
            let data_len: usize = kept.iter().map(|s| s.size as usize).sum();
            let data = buf
                .get(data_start..data_start + data_len)
                .ok_or_else(|| file_err("sample data outside its fragment".into()))?;
            sequence += 1;
            let header = fragment_header(sequence, (frag_time - origin) as u64, sdi, &kept);
            out.write_all(&header)
                .and_then(|_| out.write_all(data))
                .map_err(ExportError::Write)?;
            sum.bytes += (header.len() + data.len()) as u64;
            if kept.len() < frag.samples.len() {
                break;
            }
        }
    }
    if sum.frames == 0 {
        return Err(ExportError::Empty {
            camera: camera.to_owned(),
        });
    }
    Ok(sum)
}
