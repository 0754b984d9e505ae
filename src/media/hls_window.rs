//! A live HLS window (pure): a camera stream's frames gathered into fMP4 media
//! segments that each start at a key frame, the newest few kept, and the media
//! playlist that lists them (RFC 8216, version 7, `EXT-X-MAP` init segments). For
//! browsers with neither Media Source Extensions nor `ManagedMediaSource`, which
//! play HLS themselves (Safari on older iPhones).

use super::fmp4::{Run, Sample, VIDEO_TRACK, fragment_header, init_segment};
use crate::ingest::frame::{Frame, VideoParams};
use bytes::Bytes;
use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::Arc;

/// Segments kept; the playlist lists the newest [`LISTED`], and the older ones
/// stay there for a player that read a playlist a moment ago.
const KEPT: usize = 8;
const LISTED: usize = 5;
/// A segment is cut at the first key frame after this much (90 kHz): a GOP
/// shorter than it joins the next, a longer one is a segment of its own.
const MIN_SEGMENT: i64 = 90_000;
/// A frame's duration when nothing follows it to tell (a gap, a new session).
const GUESSED_FRAME: i64 = 6_000;
/// The largest gap between two frames' times taken as a frame's duration.
const MAX_FRAME: i64 = 90_000;

#[derive(Debug)]
struct Segment {
    seq: u64,
    init: u64,
    duration: i64,
    /// Follows a gap, a new session or new codec parameters.
    discontinuity: bool,
    bytes: Bytes,
}

#[derive(Debug, Default)]
pub struct HlsWindow {
    /// Init segments by id, the current one last; those no kept segment needs go.
    inits: VecDeque<(u64, Bytes)>,
    params: Option<Arc<VideoParams>>,
    session: u64,
    /// Frames of the segment being gathered, from a key frame.
    pending: Vec<Arc<Frame>>,
    /// The pending segment follows a discontinuity.
    pending_discontinuity: bool,
    segments: VecDeque<Segment>,
    next_seq: u64,
    /// Discontinuities among segments no longer kept.
    dropped_discontinuities: u64,
    /// Where the next segment's decode time starts: continuous throughout.
    decode_at: u64,
}

impl HlsWindow {
    pub fn new() -> HlsWindow {
        HlsWindow::default()
    }

    /// Takes the stream's next frame.
    pub fn push(&mut self, f: &Arc<Frame>) {
        let same =
            self.session == f.session && self.params.as_ref().is_some_and(|p| f.has_params(p));
        if same {
            if self.pending.is_empty() && !f.key {
                return;
            }
            if f.key
                && let (Some(first), Some(last)) = (self.pending.first(), self.pending.last())
                && f.pts - first.pts >= MIN_SEGMENT
            {
                let last_duration = f.pts - last.pts;
                self.finish(last_duration);
            }
        } else {
            // A new timeline or new parameters: from its first key frame on.
            self.finish(GUESSED_FRAME);
            self.pending_discontinuity |= self.next_seq > 0;
            if !f.key {
                return;
            }
            self.session = f.session;
            if self.params.as_ref().is_none_or(|p| !f.has_params(p)) {
                let p = &f.params;
                let id = self.inits.back().map_or(0, |(id, _)| id + 1);
                let init = init_segment(&[&p.sample_entry], p.width, p.height, None);
                self.inits.push_back((id, init.into()));
                self.params = Some(p.clone());
            }
        }
        self.pending.push(f.clone());
    }

    /// Frames were lost: the segment being gathered ends where they went missing,
    /// and the next starts at a key frame after a discontinuity.
    pub fn gap(&mut self) {
        self.finish(GUESSED_FRAME);
        self.session = u64::MAX;
        self.pending_discontinuity = true;
    }

    /// Makes a segment of the pending frames; `last_duration` is the last one's.
    fn finish(&mut self, last_duration: i64) {
        if self.pending.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.pending);
        let samples: Vec<Sample> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let d = frames.get(i + 1).map_or(last_duration, |n| n.pts - f.pts);
                Sample {
                    duration: u32::try_from(d.clamp(1, MAX_FRAME)).unwrap_or(1),
                    size: crate::media::len_u32(f.data.len()),
                    key: f.key,
                }
            })
            .collect();
        let duration: i64 = samples.iter().map(|s| i64::from(s.duration)).sum();
        let seq = self.next_seq;
        let mut bytes = fragment_header(
            u32::try_from(seq % u64::from(u32::MAX)).unwrap_or(0) + 1,
            &[Run {
                track_id: VIDEO_TRACK,
                base_decode_time: self.decode_at,
                sample_description_index: 1,
                samples: &samples,
            }],
        );
        for f in &frames {
            bytes.extend_from_slice(&f.data);
        }
        self.decode_at += duration.unsigned_abs();
        self.segments.push_back(Segment {
            seq,
            init: self.inits.back().map_or(0, |(id, _)| *id),
            duration,
            discontinuity: std::mem::take(&mut self.pending_discontinuity),
            bytes: bytes.into(),
        });
        self.next_seq += 1;
        while self.segments.len() > KEPT {
            if let Some(old) = self.segments.pop_front() {
                self.dropped_discontinuities += u64::from(old.discontinuity);
            }
        }
        let oldest_init = self.segments.front().map_or(0, |s| s.init);
        while self.inits.len() > 1 && self.inits.front().is_some_and(|(id, _)| *id < oldest_init) {
            self.inits.pop_front();
        }
    }

    /// The newest segment's sequence number, once there is one.
    pub fn newest(&self) -> Option<u64> {
        self.segments.back().map(|s| s.seq)
    }

    /// A media segment, while it is kept.
    pub fn segment(&self, seq: u64) -> Option<Bytes> {
        self.segments
            .iter()
            .find(|s| s.seq == seq)
            .map(|s| s.bytes.clone())
    }

    /// An init segment, while a kept segment needs it.
    pub fn init(&self, id: u64) -> Option<Bytes> {
        self.inits
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, b)| b.clone())
    }

    /// The live media playlist (`None` before the first segment); segment URIs
    /// are `{seq}.m4s` and init URIs `init-{id}.mp4`, relative to `base`.
    pub fn playlist(&self, base: &str) -> Option<String> {
        let skip = self.segments.len().saturating_sub(LISTED);
        let listed: Vec<&Segment> = self.segments.iter().skip(skip).collect();
        let first = listed.first()?;
        let before: u64 = self.dropped_discontinuities
            + self
                .segments
                .iter()
                .take(skip)
                .map(|s| u64::from(s.discontinuity))
                .sum::<u64>();
        let longest = listed.iter().map(|s| s.duration).max().unwrap_or(0);
        let target = (longest + 89_999) / 90_000;
        let mut p = String::with_capacity(256 + listed.len() * 64);
        let _ = write!(
            p,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:{}\n\
             #EXT-X-DISCONTINUITY-SEQUENCE:{before}\n",
            target.max(1),
            first.seq
        );
        let mut init = None;
        for (i, s) in listed.iter().enumerate() {
            if s.discontinuity && i > 0 {
                p.push_str("#EXT-X-DISCONTINUITY\n");
            }
            if init != Some(s.init) {
                let _ = writeln!(p, "#EXT-X-MAP:URI=\"{base}init-{}.mp4\"", s.init);
                init = Some(s.init);
            }
            let _ = write!(
                p,
                "#EXTINF:{:.3},\n{base}{}.m4s\n",
                s.duration as f64 / 90_000.0,
                s.seq
            );
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of session `session` at `i` fifteenths of a second, a key frame
    /// every 30 (2 s).
    fn frame(session: u64, i: i64) -> Arc<Frame> {
        let f = Frame::for_test(i * 6000, i * 66_667, i % 30 == 0);
        let mut f = Arc::try_unwrap(f).expect("fresh");
        f.session = session;
        f.data = bytes::Bytes::from(vec![i.to_le_bytes()[0]; 10]);
        Arc::new(f)
    }

    fn lines<'a>(p: &'a str, prefix: &str) -> Vec<&'a str> {
        p.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[test]
    fn segments_start_at_key_frames_and_slide() {
        let mut w = HlsWindow::new();
        // Frames before the first key frame are not kept.
        for i in 25..30 + 30 * 10 + 1 {
            w.push(&frame(1, i));
        }
        assert_eq!(
            w.newest(),
            Some(9),
            "ten whole GOPs; the eleventh is still open"
        );
        let p = w.playlist("").expect("a playlist");
        assert!(p.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n"));
        assert_eq!(
            lines(&p, "#EXT-X-MEDIA-SEQUENCE"),
            ["#EXT-X-MEDIA-SEQUENCE:5"]
        );
        assert_eq!(
            lines(&p, "#EXT-X-TARGETDURATION"),
            ["#EXT-X-TARGETDURATION:2"]
        );
        assert_eq!(lines(&p, "#EXTINF").len(), LISTED);
        assert!(lines(&p, "#EXTINF").iter().all(|l| *l == "#EXTINF:2.000,"));
        assert_eq!(lines(&p, "#EXT-X-MAP"), ["#EXT-X-MAP:URI=\"init-0.mp4\""]);
        assert!(!p.contains("#EXT-X-DISCONTINUITY\n"));
        assert!(w.segment(1).is_none(), "only the newest are kept");
        assert!(w.segment(2).is_some() && w.init(0).is_some());
        // The segment is a moof with one run of 30 samples from the right decode
        // time, then an mdat of the frames' bytes.
        let s = w.segment(9).expect("segment 9");
        let moof = u32::from_be_bytes(s[0..4].try_into().unwrap()) as usize;
        assert_eq!(&s[4..8], b"moof");
        let tfdt = s.windows(4).position(|b| b == b"tfdt").unwrap();
        let decode = u64::from_be_bytes(s[tfdt + 8..tfdt + 16].try_into().unwrap());
        assert_eq!(decode, 9 * 180_000);
        assert_eq!(&s[moof + 4..moof + 8], b"mdat");
        assert_eq!(s.len(), moof + 8 + 30 * 10);
        assert_eq!(
            s[moof + 8],
            44, // 300 % 256
            "segment 9 starts at frame 300"
        );
    }

    #[test]
    fn a_new_session_or_a_gap_is_a_discontinuity_and_new_parameters_a_new_map() {
        let mut w = HlsWindow::new();
        for i in 0..61 {
            w.push(&frame(1, i));
        }
        // The camera reconnects: a new timeline starting over.
        for i in 0..61 {
            w.push(&frame(2, i));
        }
        w.gap();
        for i in 75..121 {
            w.push(&frame(2, i));
        }
        let p = w.playlist("/x/").expect("a playlist");
        assert_eq!(lines(&p, "#EXTINF").len(), 5, "{p}");
        assert_eq!(p.matches("#EXT-X-DISCONTINUITY\n").count(), 2, "{p}");
        assert_eq!(
            lines(&p, "#EXT-X-DISCONTINUITY-SEQUENCE"),
            ["#EXT-X-DISCONTINUITY-SEQUENCE:0"]
        );
        assert!(p.contains("/x/init-0.mp4") && p.contains("/x/2.m4s"), "{p}");
        // Same parameters throughout: one init segment.
        assert!(w.init(1).is_none());
        // Decode times run on across the discontinuities.
        let decode = |seq| {
            let s = w.segment(seq).unwrap();
            let t = s.windows(4).position(|b| b == b"tfdt").unwrap();
            u64::from_be_bytes(s[t + 8..t + 16].try_into().unwrap())
        };
        assert!((1..5).all(|q| decode(q) > decode(q - 1)));
    }

    #[test]
    fn new_codec_parameters_get_a_new_init_segment() {
        let mut w = HlsWindow::new();
        for i in 0..31 {
            w.push(&frame(1, i));
        }
        let mut f = Arc::try_unwrap(frame(1, 31 + 29)).unwrap();
        f.params = Arc::new(VideoParams {
            codec: "avc1.640020".into(),
            width: 1920,
            height: 1080,
            sample_entry: b"other".to_vec(),
        });
        let f = Arc::new(f);
        w.push(&f);
        for i in 61..92 {
            let mut g = Arc::try_unwrap(frame(1, i)).unwrap();
            g.params = f.params.clone();
            w.push(&Arc::new(g));
        }
        let p = w.playlist("").expect("a playlist");
        assert_eq!(
            lines(&p, "#EXT-X-MAP"),
            [
                "#EXT-X-MAP:URI=\"init-0.mp4\"",
                "#EXT-X-MAP:URI=\"init-1.mp4\""
            ],
            "{p}"
        );
        assert!(w.init(1).is_some());
    }
}
