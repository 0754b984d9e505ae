//! The fragmented MP4 reader: walks a file's boxes, reads the init segment's sample
//! entries and every fragment's samples, and finds where a torn tail begins.
//!
//! It reads only box headers and `moof` boxes, seeking over `mdat` payloads, so
//! checking a whole recording costs little I/O.

use super::fmp4::{AUDIO_TRACK, Sample, VIDEO_TRACK};
use std::io::{self, Read, Seek, SeekFrom};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("not a Hearth fragmented MP4: {0}")]
    Format(String),
}

/// The audio samples of a fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioRun {
    pub decode_time: u64,
    /// Absolute byte offset of the first sample's data.
    pub data_offset: u64,
    pub samples: Vec<Sample>,
}

/// The audio track of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioInfo {
    pub sample_entries: Vec<Vec<u8>>,
    pub timescale: u32,
}

/// One `moof` + `mdat` pair: its video samples (track 1) and any audio (track 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Byte offset of the `moof` box in the file.
    pub offset: u64,
    /// Length of `moof` plus `mdat`.
    pub len: u64,
    /// Absolute byte offset of the first sample's data.
    pub data_offset: u64,
    pub sequence: u32,
    pub decode_time: u64,
    pub sample_description_index: u32,
    pub samples: Vec<Sample>,
    pub audio: Option<AudioRun>,
}

impl Fragment {
    pub fn duration(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.duration)).sum()
    }
    pub fn starts_with_key(&self) -> bool {
        self.samples.first().is_some_and(|s| s.key)
    }
}

/// What a file holds up to its last complete fragment.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    pub init_len: u64,
    pub sample_entries: Vec<Vec<u8>>,
    pub width: u32,
    pub height: u32,
    pub audio: Option<AudioInfo>,
    pub fragments: Vec<Fragment>,
    /// Length of the well-formed prefix: init plus complete fragments.
    pub valid_len: u64,
    pub file_len: u64,
}

impl ParsedFile {
    pub fn duration(&self) -> u64 {
        self.fragments.iter().map(Fragment::duration).sum()
    }
    pub fn frames(&self) -> u64 {
        self.fragments.iter().map(|f| f.samples.len() as u64).sum()
    }
    pub fn is_torn(&self) -> bool {
        self.valid_len != self.file_len
    }
}

/// The largest `moov` or `moof` read into memory; a bigger one is not Hearth's.
const MAX_META_BOX: u64 = 16 << 20;
/// The most samples one run may claim; a fragment is one GOP or about a second.
const MAX_RUN_SAMPLES: u32 = 1 << 20;

/// `pos + size` within a file of `len` bytes, or `None` (past its end, or a
/// size so large the sum overflows).
/// A box's body length as a buffer size (checked: boxes read whole are capped
/// at [`MAX_META_BOX`], and a 32-bit machine must not wrap a larger claim).
fn body_len(h: &BoxHeader) -> Result<usize, ReadError> {
    h.size
        .checked_sub(h.header_len)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ReadError::Format(format!("a box of {} bytes", h.size)))
}

fn end_within(pos: u64, size: u64, len: u64) -> Option<u64> {
    pos.checked_add(size).filter(|&end| end <= len)
}

struct BoxHeader {
    typ: [u8; 4],
    /// Size of the whole box including the header.
    size: u64,
    header_len: u64,
}

/// Reads a box header at the current position; `None` at a clean end of file or
/// when fewer bytes than a header remain.
fn read_header<R: Read>(r: &mut R, remaining: u64) -> Result<Option<BoxHeader>, ReadError> {
    if remaining < 8 {
        return Ok(None);
    }
    let mut h = [0u8; 8];
    r.read_exact(&mut h)?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let typ = [h[4], h[5], h[6], h[7]];
    let (size, header_len) = match size32 {
        1 => {
            if remaining < 16 {
                return Ok(None);
            }
            let mut l = [0u8; 8];
            r.read_exact(&mut l)?;
            (u64::from_be_bytes(l), 16)
        }
        0 => (remaining, 8),
        s => (u64::from(s), 8),
    };
    if size < header_len {
        return Err(ReadError::Format(format!(
            "box {} has an impossible size {size}",
            String::from_utf8_lossy(&typ)
        )));
    }
    Ok(Some(BoxHeader {
        typ,
        size,
        header_len,
    }))
}

/// Parses a whole file. Structural errors in the init segment are errors; a torn or
/// malformed tail after it ends the valid prefix instead.
pub fn parse<R: Read + Seek>(r: &mut R) -> Result<ParsedFile, ReadError> {
    let file_len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut pos = 0u64;
    let mut moov = None;
    // ftyp, then moov.
    while moov.is_none() {
        let h = read_header(r, file_len - pos)?
            .ok_or_else(|| ReadError::Format("file ends before the moov box".into()))?;
        let end = end_within(pos, h.size, file_len)
            .ok_or_else(|| ReadError::Format("the init segment is torn".into()))?;
        if pos == 0 && &h.typ != b"ftyp" {
            return Err(ReadError::Format(
                "the file does not start with ftyp".into(),
            ));
        }
        if &h.typ == b"moov" {
            if h.size > MAX_META_BOX {
                return Err(ReadError::Format(format!("a moov box of {} bytes", h.size)));
            }
            let mut body = vec![0u8; body_len(&h)?];
            r.read_exact(&mut body)?;
            moov = Some(body);
        } else {
            r.seek(SeekFrom::Start(end))?;
        }
        pos = end;
    }
    let moov = moov.unwrap_or_default();
    let (sample_entries, width, height, audio) = parse_moov(&moov)?;
    let init_len = pos;
    let mut fragments = Vec::new();
    let mut valid_len = pos;
    // moof + mdat pairs; anything incomplete or malformed ends the valid prefix.
    while let Some(h) = read_header(r, file_len - pos)? {
        let Some(mdat_pos) = end_within(pos, h.size, file_len) else {
            break;
        };
        if &h.typ != b"moof" || h.size > MAX_META_BOX {
            break;
        }
        let Ok(len) = body_len(&h) else {
            break;
        };
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        let Ok(mut frag) = parse_moof(&body, pos) else {
            break;
        };
        r.seek(SeekFrom::Start(mdat_pos))?;
        let Some(m) = read_header(r, file_len - mdat_pos)? else {
            break;
        };
        let Some(end) = end_within(mdat_pos, m.size, file_len) else {
            break;
        };
        let video_len: u64 = frag.samples.iter().map(|s| u64::from(s.size)).sum();
        let audio_len: u64 = frag
            .audio
            .iter()
            .flat_map(|a| &a.samples)
            .map(|s| u64::from(s.size))
            .sum();
        let data_start = mdat_pos + m.header_len;
        if &m.typ != b"mdat"
            || m.size - m.header_len != video_len + audio_len
            || frag.data_offset != data_start
            || frag
                .audio
                .as_ref()
                .is_some_and(|a| a.data_offset != data_start + video_len)
        {
            break;
        }
        frag.len = end - pos;
        pos = end;
        valid_len = pos;
        fragments.push(frag);
        r.seek(SeekFrom::Start(pos))?;
    }
    Ok(ParsedFile {
        init_len,
        sample_entries,
        width,
        height,
        audio,
        fragments,
        valid_len,
        file_len,
    })
}

/// Iterates the child boxes of a box body: yields (type, body).
fn children(mut b: &[u8]) -> impl Iterator<Item = Result<([u8; 4], &[u8]), ReadError>> {
    std::iter::from_fn(move || {
        if b.is_empty() {
            return None;
        }
        if b.len() < 8 {
            b = &[];
            return Some(Err(ReadError::Format("truncated box header".into())));
        }
        let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let typ = [b[4], b[5], b[6], b[7]];
        if size < 8 || size > b.len() {
            b = &[];
            return Some(Err(ReadError::Format(format!(
                "box {} overruns its parent",
                String::from_utf8_lossy(&typ)
            ))));
        }
        let (this, rest) = b.split_at(size);
        b = rest;
        Some(Ok((typ, &this[8..])))
    })
}

fn child<'a>(b: &'a [u8], typ: &[u8; 4]) -> Result<&'a [u8], ReadError> {
    for c in children(b) {
        let (t, body) = c?;
        if &t == typ {
            return Ok(body);
        }
    }
    Err(ReadError::Format(format!(
        "missing box {}",
        String::from_utf8_lossy(typ)
    )))
}

fn be32(b: &[u8], at: usize) -> Result<u32, ReadError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| ReadError::Format("box too short".into()))
}

fn be64(b: &[u8], at: usize) -> Result<u64, ReadError> {
    Ok((u64::from(be32(b, at)?) << 32) | u64::from(be32(b, at + 4)?))
}

type Moov = (Vec<Vec<u8>>, u32, u32, Option<AudioInfo>);

/// Reads the video track (track 1) and the audio track (track 2) if present.
fn parse_moov(moov: &[u8]) -> Result<Moov, ReadError> {
    let mut video = None;
    let mut audio = None;
    for c in children(moov) {
        let (typ, trak) = c?;
        if &typ != b"trak" {
            continue;
        }
        let tkhd = child(trak, b"tkhd")?;
        let v1 = tkhd.first() == Some(&1);
        let track_id = be32(tkhd, if v1 { 20 } else { 12 })?;
        let (width, height) = if v1 {
            (be32(tkhd, 88)? >> 16, be32(tkhd, 92)? >> 16)
        } else {
            (be32(tkhd, 76)? >> 16, be32(tkhd, 80)? >> 16)
        };
        let mdia = child(trak, b"mdia")?;
        let mdhd = child(mdia, b"mdhd")?;
        let timescale = be32(mdhd, if mdhd.first() == Some(&1) { 20 } else { 12 })?;
        let stbl = child(child(mdia, b"minf")?, b"stbl")?;
        let entries = sample_entries(child(stbl, b"stsd")?)?;
        match track_id {
            VIDEO_TRACK => video = Some((entries, width, height)),
            AUDIO_TRACK => {
                audio = Some(AudioInfo {
                    sample_entries: entries,
                    timescale,
                })
            }
            _ => {}
        }
    }
    let (entries, width, height) =
        video.ok_or_else(|| ReadError::Format("no video track".into()))?;
    Ok((entries, width, height, audio))
}

fn sample_entries(stsd: &[u8]) -> Result<Vec<Vec<u8>>, ReadError> {
    let count = be32(stsd, 4)?;
    let mut entries = Vec::new();
    let mut rest = stsd.get(8..).unwrap_or_default();
    for _ in 0..count {
        let size = be32(rest, 0)? as usize;
        if size < 8 || size > rest.len() {
            return Err(ReadError::Format("stsd entry overruns stsd".into()));
        }
        entries.push(rest[..size].to_vec());
        rest = &rest[size..];
    }
    if entries.is_empty() {
        return Err(ReadError::Format("no sample entry".into()));
    }
    Ok(entries)
}

/// Parses a `moof` box body found at `moof_pos`; `len` is left 0 for the caller.
pub fn parse_moof(moof: &[u8], moof_pos: u64) -> Result<Fragment, ReadError> {
    let sequence = be32(child(moof, b"mfhd")?, 4)?;
    let mut video = None;
    let mut audio = None;
    for c in children(moof) {
        let (typ, traf) = c?;
        if &typ != b"traf" {
            continue;
        }
        let run = parse_traf(traf, moof_pos)?;
        match run.0 {
            VIDEO_TRACK => video = Some(run),
            AUDIO_TRACK => {
                audio = Some(AudioRun {
                    decode_time: run.1,
                    data_offset: run.3,
                    samples: run.4,
                })
            }
            _ => {}
        }
    }
    let (_, decode_time, sample_description_index, data_offset, samples) =
        video.ok_or_else(|| ReadError::Format("fragment without video".into()))?;
    Ok(Fragment {
        offset: moof_pos,
        len: 0,
        data_offset,
        sequence,
        decode_time,
        sample_description_index,
        samples,
        audio,
    })
}

/// (track id, decode time, sample description index, absolute data offset, samples)
type Traf = (u32, u64, u32, u64, Vec<Sample>);

fn parse_traf(traf: &[u8], moof_pos: u64) -> Result<Traf, ReadError> {
    let tfhd = child(traf, b"tfhd")?;
    let tf_flags = be32(tfhd, 0)? & 0xff_ffff;
    let track_id = be32(tfhd, 4)?;
    let mut at = 8; // version/flags + track_ID
    if tf_flags & 0x01 != 0 {
        // An explicit base data offset: Hearth never writes one.
        return Err(ReadError::Format("explicit base data offset".into()));
    }
    let mut field = |present: bool| -> Result<Option<u32>, ReadError> {
        if !present {
            return Ok(None);
        }
        let v = be32(tfhd, at)?;
        at += 4;
        Ok(Some(v))
    };
    let sdi = field(tf_flags & 0x02 != 0)?.unwrap_or(1);
    let default_duration = field(tf_flags & 0x08 != 0)?;
    let default_size = field(tf_flags & 0x10 != 0)?;
    let default_flags = field(tf_flags & 0x20 != 0)?;
    let tfdt = child(traf, b"tfdt")?;
    let decode_time = if tfdt.first() == Some(&1) {
        be64(tfdt, 4)?
    } else {
        u64::from(be32(tfdt, 4)?)
    };
    let trun = child(traf, b"trun")?;
    let flags = be32(trun, 0)? & 0xff_ffff;
    let count = be32(trun, 4)?;
    if count > MAX_RUN_SAMPLES {
        return Err(ReadError::Format(format!("a run of {count} samples")));
    }
    let mut at = 8;
    let mut data_offset = 0i64;
    if flags & 0x01 != 0 {
        data_offset = i64::from(be32(trun, at)? as i32);
        at += 4;
    }
    let mut first_flags = None;
    if flags & 0x04 != 0 {
        first_flags = Some(be32(trun, at)?);
        at += 4;
    }
    let per = [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|&&f| flags & f != 0)
        .count();
    if (trun.len().saturating_sub(at)) / 4 < per * count as usize {
        return Err(ReadError::Format(
            "trun shorter than its sample count".into(),
        ));
    }
    let mut samples = Vec::with_capacity(count as usize);
    let next = |present: bool, at: &mut usize| -> Result<Option<u32>, ReadError> {
        if !present {
            return Ok(None);
        }
        *at += 4;
        be32(trun, *at - 4).map(Some)
    };
    for i in 0..count {
        let duration = next(flags & 0x100 != 0, &mut at)?
            .or(default_duration)
            .ok_or_else(|| ReadError::Format("no sample duration".into()))?;
        let size = next(flags & 0x200 != 0, &mut at)?
            .or(default_size)
            .ok_or_else(|| ReadError::Format("no sample size".into()))?;
        let sflags = next(flags & 0x400 != 0, &mut at)?
            .or(if i == 0 { first_flags } else { None })
            .or(default_flags)
            .unwrap_or(0x0101_0000);
        // A composition offset: Hearth records no B-frames.
        next(flags & 0x800 != 0, &mut at)?;
        samples.push(Sample {
            duration,
            size,
            key: sflags & 0x0001_0000 == 0,
        });
    }
    Ok((
        track_id,
        decode_time,
        sdi,
        moof_pos
            .checked_add_signed(data_offset)
            .ok_or_else(|| ReadError::Format("data offset before the file".into()))?,
        samples,
    ))
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "test data of known small sizes"
)]
mod tests {
    use super::*;
    use crate::media::fmp4::{AudioTrack, Run, fragment_header, init_segment};
    use std::io::Cursor;

    fn entry() -> Vec<u8> {
        let mut e = Vec::new();
        crate::media::boxes::write_box(&mut e, b"avc1", |b| b.extend_from_slice(&[0; 78]));
        e
    }

    fn file_with(n: u32) -> Vec<u8> {
        let e = entry();
        let mut f = init_segment(&[&e], 640, 360, None);
        for i in 0..n {
            let s = [
                Sample {
                    duration: 3000,
                    size: 4,
                    key: true,
                },
                Sample {
                    duration: 3000,
                    size: 3,
                    key: false,
                },
            ];
            f.extend(fragment_header(
                i + 1,
                &[Run {
                    track_id: VIDEO_TRACK,
                    base_decode_time: u64::from(i) * 6000,
                    sample_description_index: 1,
                    samples: &s,
                }],
            ));
            f.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7]);
        }
        f
    }

    #[test]
    fn reads_audio_runs_after_video() {
        let e = entry();
        let mut a = Vec::new();
        crate::media::boxes::write_box(&mut a, b"mp4a", |b| b.extend_from_slice(&[0; 28]));
        let audio = AudioTrack {
            entries: &[&a],
            timescale: 16_000,
        };
        let mut f = init_segment(&[&e], 640, 360, Some(audio));
        let v = [Sample {
            duration: 3000,
            size: 4,
            key: true,
        }];
        let s = [Sample {
            duration: 1024,
            size: 2,
            key: true,
        }; 3];
        f.extend(fragment_header(
            1,
            &[
                Run {
                    track_id: VIDEO_TRACK,
                    base_decode_time: 0,
                    sample_description_index: 1,
                    samples: &v,
                },
                Run {
                    track_id: AUDIO_TRACK,
                    base_decode_time: 77,
                    sample_description_index: 1,
                    samples: &s,
                },
            ],
        ));
        f.extend_from_slice(&[9; 10]);
        let p = parse(&mut Cursor::new(&f)).unwrap();
        assert_eq!(p.audio.as_ref().unwrap().timescale, 16_000);
        let fr = &p.fragments[0];
        let au = fr.audio.as_ref().unwrap();
        assert_eq!((au.decode_time, au.samples.len()), (77, 3));
        assert_eq!(au.data_offset, fr.data_offset + 4);
        assert!(!p.is_torn());
    }

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let f = file_with(3);
        let p = parse(&mut Cursor::new(&f)).unwrap();
        assert_eq!((p.width, p.height), (640, 360));
        assert_eq!(p.fragments.len(), 3);
        assert_eq!(p.frames(), 6);
        assert_eq!(p.duration(), 18000);
        assert_eq!(p.fragments[2].decode_time, 12000);
        assert!(p.fragments[0].starts_with_key());
        assert!(!p.is_torn());
    }

    #[test]
    fn every_truncation_point_yields_a_valid_prefix() {
        let f = file_with(3);
        let full = parse(&mut Cursor::new(&f)).unwrap();
        for cut in full.init_len as usize..f.len() {
            let p = parse(&mut Cursor::new(&f[..cut])).unwrap();
            let complete = full
                .fragments
                .iter()
                .filter(|fr| fr.offset + fr.len <= cut as u64);
            assert_eq!(p.fragments.len(), complete.count(), "cut at {cut}");
            assert!(p.valid_len <= cut as u64);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for junk in [
            &b""[..],
            b"\0\0\0\x01ftyp",
            b"\0\0\0\x08moov",
            &[0xffu8; 64],
        ] {
            assert!(parse(&mut Cursor::new(junk)).is_err());
        }
        let mut f = file_with(2);
        let n = f.len();
        f[n - 20] ^= 0xff; // corrupt the last fragment's sample data length region
        let _ = parse(&mut Cursor::new(&f)); // must not panic
    }

    fn boxed(typ: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(typ);
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn sizes_from_the_file_are_checked_before_use() {
        let f = file_with(2);
        let init = parse(&mut Cursor::new(&f)).unwrap().init_len as usize;
        let ftyp = u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize;
        // A moov whose 64-bit size wraps the position around.
        for size in [u64::MAX - 7, 1 << 63] {
            let mut bad = f[..ftyp].to_vec();
            bad.extend_from_slice(&[0, 0, 0, 1]);
            bad.extend_from_slice(b"moov");
            bad.extend_from_slice(&size.to_be_bytes());
            bad.extend_from_slice(&[0; 64]);
            assert!(parse(&mut Cursor::new(&bad)).is_err(), "size {size}");
        }
        // A fragment, then an mdat, whose sizes wrap: the valid prefix ends there.
        for typ in [b"moof", b"mdat"] {
            let mut bad = f.clone();
            bad.extend_from_slice(&[0, 0, 0, 1]);
            bad.extend_from_slice(typ);
            bad.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
            let p = parse(&mut Cursor::new(&bad)).unwrap();
            assert_eq!(p.fragments.len(), 2);
            assert_eq!(p.valid_len as usize, f.len());
        }
        assert!(init < f.len());
    }

    #[test]
    fn a_run_cannot_ask_for_gigabytes() {
        // tfhd with a default duration and size, so samples need no bytes of their own.
        let tfhd = boxed(
            b"tfhd",
            &[0, 0, 0, 0x18, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
        );
        let tfdt = boxed(b"tfdt", &[0; 8]);
        let trun = boxed(b"trun", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        let traf = boxed(b"traf", &[tfhd, tfdt, trun].concat());
        let moof = [boxed(b"mfhd", &[0, 0, 0, 0, 0, 0, 0, 1]), traf].concat();
        assert!(parse_moof(&moof, 0).is_err());
    }
}
