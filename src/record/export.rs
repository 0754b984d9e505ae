//! Export and playback ranges: stitches the fragments of a time range, across
//! segments, into one fragmented MP4, from the key frame at or before the start,
//! without decoding. Decode times keep real time, so gaps stay gaps. Audio, where
//! recorded, comes along up to the last video frame.
//!
//! A [`Plan`] lists the output as pieces: new headers in memory, sample data as
//! slices of the segment files. Its length is known before a byte is read, so the
//! web serves any byte range of it, and the CLI writes it whole.

use super::layout;
use crate::footage::{Footage, Stored};
use crate::media::fmp4::{
    AUDIO_TRACK, AudioTrack, Run, Sample, VIDEO_TRACK, fragment_header, init_segment,
};
use crate::media::reader::parse_moof;
use crate::store::SegmentRow;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

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

/// One piece of an export: bytes made here, or a slice of a segment file.
#[derive(Debug, Clone)]
pub enum Piece {
    Bytes(Vec<u8>),
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::File { len, .. } => *len,
        }
    }
}

/// The whole export, ready to be written or served in ranges.
#[derive(Debug, Clone)]
pub struct Plan {
    pub pieces: Vec<Piece>,
    pub len: u64,
    pub summary: ExportSummary,
}

impl Plan {
    /// Writes bytes `[start, end)` of the export.
    pub fn write_range(
        &self,
        footage: &Footage,
        start: u64,
        end: u64,
        out: &mut impl Write,
    ) -> Result<(), ExportError> {
        let mut at = 0;
        let mut open: Option<(PathBuf, Stored)> = None;
        for p in &self.pieces {
            let (lo, hi) = (at, at + p.len());
            at = hi;
            if hi <= start || lo >= end {
                continue;
            }
            let (from, to) = (start.max(lo) - lo, end.min(hi) - lo);
            match p {
                Piece::Bytes(b) => out
                    .write_all(b.get(to_usize(from)..to_usize(to)).unwrap_or_default())
                    .map_err(ExportError::Write)?,
                Piece::File { path, offset, .. } => {
                    let file_err = |e: std::io::Error| ExportError::File {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    };
                    if open.as_ref().is_none_or(|(p, _)| p != path) {
                        open = Some((path.clone(), footage.open_file(path).map_err(file_err)?));
                    }
                    let Some((_, f)) = open.as_mut() else {
                        continue;
                    };
                    let mut buf = vec![0u8; to_usize(to - from)];
                    f.read_exact_at(offset + from, &mut buf).map_err(file_err)?;
                    out.write_all(&buf).map_err(ExportError::Write)?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub frames: u64,
    pub audio_frames: u64,
    pub first_us: i64,
    /// Start time of the last frame written.
    pub last_us: i64,
    pub bytes: u64,
}

pub(super) fn us_to_90k(us: i64) -> i64 {
    (us * 9 + 50) / 100
}

/// Converts between timescales without overflow.
fn rescale(v: i64, from: u32, to: u32) -> i64 {
    let r = i128::from(v) * i128::from(to) / i128::from(from.max(1));
    i64::try_from(r).unwrap_or(if r < 0 { i64::MIN } else { i64::MAX })
}

/// A piece's byte offset as an index: pieces are built from slices and files
/// that fit in memory, so this never saturates on any machine Hearth runs on.
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Distinct sample entries, in order of first use; returns the 1-based index of each.
fn index_of<'a>(entries: &mut Vec<&'a [u8]>, e: &'a [u8]) -> u32 {
    match entries.iter().position(|x| *x == e) {
        Some(i) => crate::media::len_u32(i + 1),
        None => {
            entries.push(e);
            crate::media::len_u32(entries.len())
        }
    }
}

/// Plans the export of `[from_us, to_us)` of a camera stream, reading only the
/// index and the `moof` boxes of the fragments it takes.
pub fn plan(
    footage: &Footage,
    camera: &str,
    stream: crate::config::StreamKind,
    from_us: i64,
    to_us: i64,
) -> Result<Plan, ExportError> {
    let segs = footage
        .store()
        .segments_between(camera, stream, from_us, to_us)?;
    plan_segments(footage, &segs, camera, from_us, to_us)
}

/// The manifest of a bundle of `[from_us, to_us)`: the range and each segment
/// file it reads, hashed as it is now (its indexed bytes, decrypted when
/// sealed). The video's own length and hash, and the audit entries, are the
/// caller's to add.
pub fn manifest(
    footage: &Footage,
    camera: &str,
    stream: crate::config::StreamKind,
    from_us: i64,
    to_us: i64,
) -> Result<crate::export_proof::Manifest, ExportError> {
    use crate::export_proof::{Manifest, SegmentHash, rfc3339, sha256_of};
    let segs = footage
        .store()
        .segments_between(camera, stream, from_us, to_us)?;
    let mut segments = Vec::with_capacity(segs.len());
    for s in &segs {
        let file_err = |e: std::io::Error| ExportError::File {
            path: s.path.clone(),
            message: e.to_string(),
        };
        let mut f = footage
            .open_file(&layout::absolute(footage.dir(), &s.path))
            .map_err(file_err)?;
        segments.push(SegmentHash {
            path: s.path.clone(),
            bytes: s.progress.bytes,
            sha256: sha256_of(&mut f, s.progress.bytes).map_err(file_err)?,
        });
    }
    Ok(Manifest {
        camera: camera.to_owned(),
        stream: stream.as_str().to_owned(),
        from: rfc3339(from_us),
        to: rfc3339(to_us),
        created: rfc3339(chrono::Utc::now().timestamp_micros()),
        segments,
        ..Manifest::default()
    })
}

/// What a plan of `[from_us, to_us)` over these segments depends on: equal
/// fingerprints mean byte-identical plans (segments are append-only; retention
/// and recovery change ids, sizes or states). Stable across restarts.
pub fn fingerprint(segs: &[SegmentRow], from_us: i64, to_us: i64) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(from_us.to_be_bytes());
    h.update(to_us.to_be_bytes());
    for s in segs {
        h.update(s.id.to_be_bytes());
        h.update(s.progress.bytes.to_be_bytes());
        h.update(s.progress.duration_90k.to_be_bytes());
        h.update([s.state as u8]);
    }
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// Plans the export over segments already read from the index (those of
/// [`Store::segments_between`]), reading the `moof` boxes it takes.
pub fn plan_segments(
    footage: &Footage,
    segs: &[SegmentRow],
    camera: &str,
    from_us: i64,
    to_us: i64,
) -> Result<Plan, ExportError> {
    if to_us <= from_us {
        return Err(ExportError::BadRange);
    }
    let first = segs.first().ok_or_else(|| ExportError::Empty {
        camera: camera.to_owned(),
    })?;
    let mut video_entries: Vec<&[u8]> = Vec::new();
    let mut audio_entries: Vec<&[u8]> = Vec::new();
    // The audio timescale of the export: the first segment with audio sets it.
    let audio_rate = segs.iter().find_map(|s| s.audio.as_ref().map(|a| a.1));
    for s in segs {
        index_of(&mut video_entries, &s.sample_entry);
        if let Some((e, rate)) = &s.audio {
            if Some(*rate) == audio_rate {
                index_of(&mut audio_entries, e);
            }
        }
    }
    let init = init_segment(
        &video_entries,
        first.width,
        first.height,
        audio_rate.map(|timescale| AudioTrack {
            entries: &audio_entries,
            timescale,
        }),
    );
    let mut pieces = vec![Piece::Bytes(init.clone())];
    let mut sum = ExportSummary {
        frames: 0,
        audio_frames: 0,
        first_us: 0,
        last_us: 0,
        bytes: init.len() as u64,
    };
    let to_90k = us_to_90k(to_us);
    let mut origin_90k: Option<i64> = None;
    let mut sequence = 0;
    'segments: for seg in segs {
        let sdi = index_of(&mut video_entries, &seg.sample_entry);
        let audio_sdi = seg
            .audio
            .as_ref()
            .filter(|a| Some(a.1) == audio_rate)
            .map(|a| index_of(&mut audio_entries, &a.0));
        let file_err = |message: String| ExportError::File {
            path: seg.path.clone(),
            message,
        };
        let path = layout::absolute(footage.dir(), &seg.path);
        let mut file = footage
            .open_file(&path)
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
        for fi in frags.iter().skip(begin) {
            let frag_time = seg_start_90k + i64::from(fi.start_90k);
            if frag_time >= to_90k {
                break 'segments;
            }
            let frag = read_moof(&mut file, fi.offset).map_err(file_err)?;
            let origin = *origin_90k.get_or_insert(frag_time);
            let mut kept: Vec<Sample> = Vec::new();
            let mut t = frag_time;
            for s in &frag.samples {
                if t >= to_90k {
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
            let truncated = kept.len() < frag.samples.len();
            let video_len: u64 = kept.iter().map(|s| u64::from(s.size)).sum();
            let mut data = vec![Piece::File {
                path: path.clone(),
                offset: frag.data_offset,
                len: video_len,
            }];
            // Audio up to the end of the video kept.
            let mut audio_kept: Vec<Sample> = Vec::new();
            let mut audio_base = 0;
            if let (Some(a), Some(rate)) = (
                frag.audio.as_ref().filter(|_| audio_sdi.is_some()),
                audio_rate,
            ) {
                let seg_start_audio = rescale(seg_start_90k, 90_000, rate);
                let end_audio = rescale(t, 90_000, rate);
                let mut at = seg_start_audio + a.decode_time as i64;
                audio_base = (at - rescale(origin, 90_000, rate)).max(0) as u64;
                for s in &a.samples {
                    if truncated && at >= end_audio {
                        break;
                    }
                    audio_kept.push(*s);
                    at += i64::from(s.duration);
                }
                data.push(Piece::File {
                    path: path.clone(),
                    offset: a.data_offset,
                    len: audio_kept.iter().map(|s| u64::from(s.size)).sum(),
                });
                sum.audio_frames += audio_kept.len() as u64;
            }
            sequence += 1;
            let header = fragment_header(
                sequence,
                &[
                    Run {
                        track_id: VIDEO_TRACK,
                        base_decode_time: (frag_time - origin) as u64,
                        sample_description_index: sdi,
                        samples: &kept,
                    },
                    Run {
                        track_id: AUDIO_TRACK,
                        base_decode_time: audio_base,
                        sample_description_index: audio_sdi.unwrap_or(1),
                        samples: &audio_kept,
                    },
                ],
            );
            sum.bytes += header.len() as u64 + data.iter().map(Piece::len).sum::<u64>();
            pieces.push(Piece::Bytes(header));
            pieces.extend(data);
            if truncated {
                break 'segments;
            }
        }
    }
    if sum.frames == 0 {
        return Err(ExportError::Empty {
            camera: camera.to_owned(),
        });
    }
    Ok(Plan {
        len: sum.bytes,
        pieces,
        summary: sum,
    })
}

/// Reads and parses the `moof` box at `offset`; sample data offsets come out absolute.
pub(super) fn read_moof(
    file: &mut (impl Read + Seek),
    offset: u64,
) -> Result<crate::media::reader::Fragment, String> {
    let mut head = [0u8; 8];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut head))
        .map_err(|e| e.to_string())?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if &head[4..8] != b"moof" || !(16..=16 << 20).contains(&len) {
        return Err("the fragment index does not point at a fragment".into());
    }
    let mut body = vec![0u8; len - 8];
    file.read_exact(&mut body).map_err(|e| e.to_string())?;
    parse_moof(&body, offset).map_err(|e| e.to_string())
}
