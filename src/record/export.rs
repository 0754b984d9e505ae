//! Export and playback ranges: stitches the fragments of a time range, across
//! segments, into one fragmented MP4, from the key frame at or before the start,
//! without decoding. Decode times keep real time, so gaps stay gaps. Audio, where
//! recorded, comes along up to the last video frame.

use super::layout;
use crate::media::fmp4::{
    AUDIO_TRACK, AudioTrack, Run, Sample, VIDEO_TRACK, fragment_header, init_segment,
};
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
    pub audio_frames: u64,
    pub first_us: i64,
    /// Start time of the last frame written.
    pub last_us: i64,
    pub bytes: u64,
}

fn us_to_90k(us: i64) -> i64 {
    (us * 9 + 50) / 100
}

/// Converts between timescales without overflow.
fn rescale(v: i64, from: u32, to: u32) -> i64 {
    (i128::from(v) * i128::from(to) / i128::from(from.max(1))) as i64
}

/// Distinct sample entries, in order of first use; returns the 1-based index of each.
fn index_of<'a>(entries: &mut Vec<&'a [u8]>, e: &'a [u8]) -> u32 {
    match entries.iter().position(|x| *x == e) {
        Some(i) => i as u32 + 1,
        None => {
            entries.push(e);
            entries.len() as u32
        }
    }
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
    let first = segs.first().ok_or_else(|| ExportError::Empty {
        camera: camera.to_owned(),
    })?;
    let mut video_entries: Vec<&[u8]> = Vec::new();
    let mut audio_entries: Vec<&[u8]> = Vec::new();
    // The audio timescale of the export: the first segment with audio sets it.
    let audio_rate = segs.iter().find_map(|s| s.audio.as_ref().map(|a| a.1));
    for s in &segs {
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
    out.write_all(&init).map_err(ExportError::Write)?;
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
    'segments: for seg in &segs {
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
            if frag_time >= to_90k {
                break 'segments;
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
            let video_len: usize = kept.iter().map(|s| s.size as usize).sum();
            let mut data = buf
                .get(frag.data_offset as usize..frag.data_offset as usize + video_len)
                .ok_or_else(|| file_err("sample data outside its fragment".into()))?
                .to_vec();
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
                let audio_len: usize = audio_kept.iter().map(|s| s.size as usize).sum();
                data.extend_from_slice(
                    buf.get(a.data_offset as usize..a.data_offset as usize + audio_len)
                        .ok_or_else(|| file_err("audio data outside its fragment".into()))?,
                );
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
            out.write_all(&header)
                .and_then(|_| out.write_all(&data))
                .map_err(ExportError::Write)?;
            sum.bytes += (header.len() + data.len()) as u64;
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
    Ok(sum)
}
