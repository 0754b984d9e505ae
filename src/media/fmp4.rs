//! The fragmented MP4 writer: an init segment (`ftyp` + `moov`) and fragments
//! (`moof` + `mdat`): a video track at 90 kHz and an optional audio track, as
//! plain players expect.

use super::TIMESCALE;
use super::boxes::{put_u16, put_u32, put_u64, put_unity_matrix, write_box, write_full_box};

/// One video sample (an encoded picture) in a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub duration: u32,
    pub size: u32,
    pub key: bool,
}

/// The `trun` sample flags for a sync (key) sample and for any other.
const KEY_FLAGS: u32 = 0x0200_0000;
const NON_KEY_FLAGS: u32 = 0x0101_0000;

/// Track ids: video is always track 1, audio (when recorded) track 2.
pub const VIDEO_TRACK: u32 = 1;
pub const AUDIO_TRACK: u32 = 2;

/// The audio track of an init segment: its sample entries (`mp4a`) and clock rate.
#[derive(Clone, Copy, Debug)]
pub struct AudioTrack<'a> {
    pub entries: &'a [&'a [u8]],
    pub timescale: u32,
}

/// Builds the init segment: a video track at 90 kHz and optionally an audio track.
/// `entries` are complete sample entry boxes (`avc1`/`hvc1`, `mp4a`); fragments
/// pick one by 1-based index.
pub fn init_segment(
    video_entries: &[&[u8]],
    width: u32,
    height: u32,
    audio: Option<AudioTrack<'_>>,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(1024);
    write_box(&mut b, b"ftyp", |b| {
        b.extend_from_slice(b"iso5");
        put_u32(b, 512);
        b.extend_from_slice(b"iso5iso6mp41isom");
    });
    write_box(&mut b, b"moov", |b| {
        write_full_box(b, b"mvhd", 0, 0, |b| {
            put_u32(b, 0); // creation_time
            put_u32(b, 0); // modification_time
            put_u32(b, TIMESCALE);
            put_u32(b, 0); // duration: unknown, given by fragments
            put_u32(b, 0x0001_0000); // rate 1.0
            put_u16(b, 0x0100); // volume 1.0
            b.extend_from_slice(&[0; 10]);
            put_unity_matrix(b);
            b.extend_from_slice(&[0; 24]);
            put_u32(b, if audio.is_some() { 3 } else { 2 }); // next_track_ID
        });
        let video = TrackSpec {
            id: VIDEO_TRACK,
            timescale: TIMESCALE,
            entries: video_entries,
            video_size: Some((width, height)),
        };
        write_trak(b, &video);
        if let Some(a) = audio {
            write_trak(
                b,
                &TrackSpec {
                    id: AUDIO_TRACK,
                    timescale: a.timescale,
                    entries: a.entries,
                    video_size: None,
                },
            );
        }
        write_box(b, b"mvex", |b| {
            for id in [Some(VIDEO_TRACK), audio.map(|_| AUDIO_TRACK)]
                .into_iter()
                .flatten()
            {
                write_full_box(b, b"trex", 0, 0, |b| {
                    put_u32(b, id);
                    put_u32(b, 1); // default_sample_description_index
                    put_u32(b, 0);
                    put_u32(b, 0);
                    put_u32(b, 0);
                });
            }
        });
    });
    b
}

struct TrackSpec<'a> {
    id: u32,
    timescale: u32,
    entries: &'a [&'a [u8]],
    /// Width and height for video; `None` for audio.
    video_size: Option<(u32, u32)>,
}

fn write_trak(b: &mut Vec<u8>, t: &TrackSpec<'_>) {
    write_box(b, b"trak", |b| {
        write_full_box(b, b"tkhd", 0, 3, |b| {
            put_u32(b, 0);
            put_u32(b, 0);
            put_u32(b, t.id);
            put_u32(b, 0);
            put_u32(b, 0); // duration
            b.extend_from_slice(&[0; 8]);
            put_u16(b, 0); // layer
            put_u16(b, 0); // alternate_group
            put_u16(b, if t.video_size.is_some() { 0 } else { 0x0100 }); // volume
            put_u16(b, 0);
            put_unity_matrix(b);
            let (w, h) = t.video_size.unwrap_or((0, 0));
            put_u32(b, w << 16);
            put_u32(b, h << 16);
        });
        write_box(b, b"mdia", |b| {
            write_full_box(b, b"mdhd", 0, 0, |b| {
                put_u32(b, 0);
                put_u32(b, 0);
                put_u32(b, t.timescale);
                put_u32(b, 0);
                put_u16(b, 0x55c4); // "und"
                put_u16(b, 0);
            });
            write_full_box(b, b"hdlr", 0, 0, |b| {
                put_u32(b, 0);
                b.extend_from_slice(if t.video_size.is_some() {
                    b"vide"
                } else {
                    b"soun"
                });
                b.extend_from_slice(&[0; 12]);
                b.extend_from_slice(if t.video_size.is_some() {
                    b"Hearth video\0"
                } else {
                    b"Hearth audio\0"
                });
            });
            write_box(b, b"minf", |b| {
                if t.video_size.is_some() {
                    write_full_box(b, b"vmhd", 0, 1, |b| b.extend_from_slice(&[0; 8]));
                } else {
                    write_full_box(b, b"smhd", 0, 0, |b| b.extend_from_slice(&[0; 4]));
                }
                write_box(b, b"dinf", |b| {
                    write_full_box(b, b"dref", 0, 0, |b| {
                        put_u32(b, 1);
                        write_full_box(b, b"url ", 0, 1, |_| {});
                    });
                });
                write_box(b, b"stbl", |b| {
                    write_full_box(b, b"stsd", 0, 0, |b| {
                        put_u32(b, super::len_u32(t.entries.len()));
                        for e in t.entries {
                            b.extend_from_slice(e);
                        }
                    });
                    for typ in [b"stts", b"stsc", b"stco"] {
                        write_full_box(b, typ, 0, 0, |b| put_u32(b, 0));
                    }
                    write_full_box(b, b"stsz", 0, 0, |b| put_u64(b, 0));
                });
            });
        });
    });
}

/// One track's samples in a fragment.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    pub track_id: u32,
    pub base_decode_time: u64,
    pub sample_description_index: u32,
    pub samples: &'a [Sample],
}

/// Builds a fragment's `moof` box and the `mdat` header that must follow it; the
/// samples' bytes come right after the returned bytes, run after run, in order.
/// Runs without samples are left out.
pub fn fragment_header(sequence: u32, runs: &[Run<'_>]) -> Vec<u8> {
    let mut b = Vec::with_capacity(100 + runs.iter().map(|r| r.samples.len() * 12).sum::<usize>());
    let mut offsets = Vec::new();
    write_box(&mut b, b"moof", |b| {
        write_full_box(b, b"mfhd", 0, 0, |b| put_u32(b, sequence));
        for run in runs.iter().filter(|r| !r.samples.is_empty()) {
            write_box(b, b"traf", |b| {
                // default-base-is-moof, and the description index when not the default.
                let sdi_flag = if run.sample_description_index != 1 {
                    0x02
                } else {
                    0
                };
                write_full_box(b, b"tfhd", 0, 0x02_0000 | sdi_flag, |b| {
                    put_u32(b, run.track_id);
                    if sdi_flag != 0 {
                        put_u32(b, run.sample_description_index);
                    }
                });
                write_full_box(b, b"tfdt", 1, 0, |b| put_u64(b, run.base_decode_time));
                // data-offset, sample-duration, sample-size, sample-flags.
                write_full_box(b, b"trun", 0, 0x0701, |b| {
                    put_u32(b, super::len_u32(run.samples.len()));
                    offsets.push(b.len());
                    put_u32(b, 0);
                    for s in run.samples {
                        put_u32(b, s.duration);
                        put_u32(b, s.size);
                        put_u32(b, if s.key { KEY_FLAGS } else { NON_KEY_FLAGS });
                    }
                });
            });
        }
    });
    let moof_len = b.len() as u64;
    let mut data_at = moof_len + 8;
    for (at, run) in offsets
        .into_iter()
        .zip(runs.iter().filter(|r| !r.samples.is_empty()))
    {
        let at_u32 = u32::try_from(data_at).unwrap_or(u32::MAX);
        b[at..at + 4].copy_from_slice(&at_u32.to_be_bytes());
        data_at += run.samples.iter().map(|s| u64::from(s.size)).sum::<u64>();
    }
    put_u32(
        &mut b,
        u32::try_from(data_at - moof_len).unwrap_or(u32::MAX),
    );
    b.extend_from_slice(b"mdat");
    b
}

/// An RFC 6381 codec string for a sample entry, e.g. `avc1.64001f` or
/// `hvc1.1.6.L93.B0`, for the index and the browser's `MediaSource`.
pub fn codec_string(entry: &[u8]) -> String {
    let Some(typ) = entry.get(4..8) else {
        return "unknown".to_owned();
    };
    let config = |name: &[u8; 4]| {
        let pos = entry.windows(4).position(|w| w == name)?;
        entry.get(pos + 4..)
    };
    let described = match typ {
        // avcC: version, then profile, compatibility, level.
        b"avc1" => config(b"avcC")
            .and_then(|c| c.get(1..4))
            .map(|p| format!("avc1.{:02x}{:02x}{:02x}", p[0], p[1], p[2])),
        b"hvc1" | b"hev1" => config(b"hvcC").and_then(|c| hevc_string(typ, c)),
        _ => None,
    };
    described.unwrap_or_else(|| String::from_utf8_lossy(typ).into_owned())
}

/// ISO/IEC 14496-15 annex E: `hvc1.[A-C]<profile>.<compatibility, bit-reversed
/// hex>.<L|H><level>[.<constraint byte>...]`, trailing zero constraint bytes left out.
fn hevc_string(typ: &[u8], c: &[u8]) -> Option<String> {
    let (profile, compat, constraints, level) =
        (*c.get(1)?, c.get(2..6)?, c.get(6..12)?, *c.get(12)?);
    let space = ["", "A", "B", "C"][usize::from(profile >> 6)];
    let tier = if profile & 0x20 != 0 { 'H' } else { 'L' };
    let flags = u32::from_be_bytes([compat[0], compat[1], compat[2], compat[3]]).reverse_bits();
    let mut out = format!(
        "{}.{space}{}.{flags:x}.{tier}{level}",
        String::from_utf8_lossy(typ),
        profile & 0x1f
    );
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..used] {
        out.push_str(&format!(".{b:X}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_strings_follow_rfc_6381() {
        let entry = |typ: &[u8; 4], cfg: &[u8; 4], body: &[u8]| {
            let mut e = vec![0, 0, 0, 0];
            e.extend_from_slice(typ);
            e.extend_from_slice(&[0; 78]);
            e.extend_from_slice(&[0, 0, 0, 0]);
            e.extend_from_slice(cfg);
            e.extend_from_slice(body);
            e
        };
        assert_eq!(
            codec_string(&entry(b"avc1", b"avcC", &[1, 0x64, 0, 0x1f])),
            "avc1.64001f"
        );
        // Main profile, compatible with Main and Main 10, level 3.1, progressive
        // and frame-only constraints: the form browsers ask isTypeSupported about.
        let main = [1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93];
        assert_eq!(
            codec_string(&entry(b"hvc1", b"hvcC", &main)),
            "hvc1.1.6.L93.B0"
        );
        // Main 10 in the high tier at level 5.1.
        let high = [1, 0x22, 0x20, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 153];
        assert_eq!(
            codec_string(&entry(b"hvc1", b"hvcC", &high)),
            "hvc1.2.4.H153.90"
        );
        assert_eq!(codec_string(&entry(b"hvc1", b"hvcC", &[1, 2])), "hvc1");
        assert_eq!(codec_string(b"abc"), "unknown");
    }

    #[test]
    fn fragment_offsets_point_past_the_mdat_header() {
        let samples = [
            Sample {
                duration: 3000,
                size: 10,
                key: true,
            },
            Sample {
                duration: 3000,
                size: 5,
                key: false,
            },
        ];
        let h = fragment_header(
            7,
            &[Run {
                track_id: VIDEO_TRACK,
                base_decode_time: 90_000,
                sample_description_index: 1,
                samples: &samples,
            }],
        );
        let moof_len = u32::from_be_bytes(h[0..4].try_into().unwrap()) as usize;
        assert_eq!(&h[moof_len + 4..moof_len + 8], b"mdat");
        let mdat_len = u32::from_be_bytes(h[moof_len..moof_len + 4].try_into().unwrap());
        assert_eq!(mdat_len, 8 + 15);
        assert_eq!(h.len(), moof_len + 8);
    }
}
