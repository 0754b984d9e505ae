//! Cuts a stream of frames into segments and fragments: the pure heart of the
//! recorder. Frames in, actions out (start a segment, write a fragment, end the
//! segment); it knows nothing of files, databases or clocks.
//!
//! Rules: a segment starts on a key frame; it ends on the first key frame after
//! the target length, or at a discontinuity (a new timeline: new RTSP session or
//! re-anchored clock; new codec parameters, timestamps going backwards or
//! jumping, wall clock and media clock drifting apart). Segments never overlap.
//! A fragment holds one GOP or at most the fragment length.
//!
//! Audio, when the camera sends it, rides along: each fragment carries the audio
//! frames up to the end of its video, so the two stay interleaved within a second.

use crate::ingest::frame::{AudioFrame, AudioParams, Frame, VideoParams};
use crate::media::TIMESCALE;
use crate::media::fmp4::{AUDIO_TRACK, Run, Sample, VIDEO_TRACK, fragment_header};
use bytes::Bytes;
use std::sync::Arc;

/// A timestamp jump larger than this is a discontinuity, not a slow frame.
const MAX_FRAME_GAP_90K: i64 = 5 * TIMESCALE as i64;
/// Wall clock and media clock may drift this far apart before a segment is cut.
const MAX_DRIFT_US: i64 = 5_000_000;
/// A new segment may start this much before the previous one's end (it is moved
/// to that end); frames stamped earlier still are skipped.
const MAX_OVERLAP_US: i64 = 200_000;
/// Audio frames kept while waiting for the first key frame (several seconds of AAC).
const MAX_AUDIO_WAITING: usize = 256;
/// Used for the last frame's duration when no interval has been seen yet (10 fps).
const DEFAULT_INTERVAL_90K: i64 = 9_000;

#[derive(Clone, Copy, Debug)]
pub struct SegmenterConfig {
    pub segment_90k: i64,
    pub fragment_90k: i64,
}

impl SegmenterConfig {
    /// The longest a segment may grow while waiting for a key frame to end it on
    /// (a camera that stopped sending them): four target lengths, at least ten
    /// minutes, so long-GOP cameras are never cut. Past it the segment ends and
    /// a gap is recorded until the next key frame. It keeps every in-segment
    /// time far inside the index's 32-bit 90 kHz offsets (13 h).
    pub fn max_segment_90k(&self) -> i64 {
        (self.segment_90k * 4).max(600 * i64::from(TIMESCALE))
    }
}

/// A fragment ready to be appended to the current segment file.
#[derive(Debug)]
pub struct FragmentOut {
    /// `moof` and `mdat` header; `data` follows it.
    pub header: Vec<u8>,
    pub data: Vec<Bytes>,
    /// Decode time relative to the segment start, 90 kHz.
    pub start_90k: u64,
    pub duration_90k: u64,
    pub frames: u32,
    pub audio_frames: u32,
    pub starts_with_key: bool,
}

impl FragmentOut {
    pub fn byte_len(&self) -> u64 {
        self.header.len() as u64 + self.data.iter().map(|d| d.len() as u64).sum::<u64>()
    }
}

#[derive(Debug)]
pub enum Action {
    /// Begin a new segment whose first frame was at `wall_us`.
    Start {
        wall_us: i64,
        params: Arc<VideoParams>,
        /// Present when the segment records an audio track.
        audio: Option<Arc<AudioParams>>,
    },
    Fragment(FragmentOut),
    /// The current segment is complete.
    End,
}

struct Current {
    session: u64,
    params: Arc<VideoParams>,
    wall_us: i64,
    first_pts: i64,
    last_pts: i64,
    sequence: u32,
    pending: Vec<Arc<Frame>>,
    audio: Option<Arc<AudioParams>>,
}

pub struct Segmenter {
    cfg: SegmenterConfig,
    cur: Option<Current>,
    last_interval: i64,
    /// End of the previous segment in wall time, so a new one never overlaps it.
    prev_end_us: i64,
    skipped: u64,
    /// Audio frames not yet written, oldest first.
    audio_pending: Vec<Arc<AudioFrame>>,
}

impl Segmenter {
    pub fn new(cfg: SegmenterConfig) -> Self {
        Segmenter {
            cfg,
            cur: None,
            last_interval: DEFAULT_INTERVAL_90K,
            prev_end_us: i64::MIN,
            skipped: 0,
            audio_pending: Vec::new(),
        }
    }

    /// Frames dropped because no segment could start (waiting for a key frame).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    pub fn is_open(&self) -> bool {
        self.cur.is_some()
    }

    pub fn push(&mut self, f: &Arc<Frame>, out: &mut Vec<Action>) {
        if let Some(c) = &self.cur {
            let media_us = (f.pts - c.first_pts) * 1_000_000 / i64::from(TIMESCALE);
            let discontinuous = c.session != f.session
                || !f.has_params(&c.params)
                || c.audio.is_some() != f.audio.is_some()
                || f.pts <= c.last_pts
                || f.pts - c.last_pts > MAX_FRAME_GAP_90K
                || ((f.wall_us - c.wall_us) - media_us).abs() > MAX_DRIFT_US;
            if discontinuous {
                self.finish(out);
            }
        }
        let Some(c) = &mut self.cur else {
            // After the camera's clock was re-anchored backwards (it runs fast),
            // frames stamped before the end of what is written would overlap it:
            // skipped until the timeline passes that end (at most about a second).
            if !f.key || f.wall_us < self.prev_end_us.saturating_sub(MAX_OVERLAP_US) {
                self.skipped += 1;
                return;
            }
            self.start(f, f.wall_us.max(self.prev_end_us), out);
            return;
        };
        let interval = f.pts - c.last_pts;
        self.last_interval = interval;
        if !f.key && f.pts - c.first_pts >= self.cfg.max_segment_90k() {
            // No key frame for too long: end here; frames wait for the next one.
            self.finish(out);
            self.skipped += 1;
            return;
        }
        if f.key && f.pts - c.first_pts >= self.cfg.segment_90k {
            // Roll over: the new segment continues exactly where this one ends.
            let wall = c.wall_us + (f.pts - c.first_pts) * 1_000_000 / i64::from(TIMESCALE);
            self.flush_fragment(interval, out);
            self.end(out);
            self.start(f, wall, out);
            return;
        }
        let frag_start = c.pending.first().map_or(f.pts, |p| p.pts);
        if !c.pending.is_empty() && (f.key || f.pts - frag_start >= self.cfg.fragment_90k) {
            self.flush_fragment(interval, out);
        }
        if let Some(c) = &mut self.cur {
            c.last_pts = f.pts;
            c.pending.push(f.clone());
        }
    }

    /// Takes an audio frame; it is written with the video fragment covering its time.
    pub fn push_audio(&mut self, a: &Arc<AudioFrame>) {
        match &self.cur {
            Some(c) => {
                if c.audio.is_some() && c.session == a.session && a.pts_90k() >= c.first_pts {
                    self.audio_pending.push(a.clone());
                }
            }
            None => {
                // Kept for a segment about to start: audio often runs slightly
                // ahead of the first key frame. Bounded while no segment opens.
                if self.audio_pending.len() >= MAX_AUDIO_WAITING {
                    self.audio_pending.remove(0);
                }
                self.audio_pending.push(a.clone());
            }
        }
    }

    /// Ends the current segment, writing every pending frame; the last frame's
    /// duration is estimated from the interval before it.
    pub fn finish(&mut self, out: &mut Vec<Action>) {
        if self.cur.is_some() {
            let interval = self.last_interval.clamp(1, i64::from(TIMESCALE));
            self.flush_fragment(interval, out);
            self.end(out);
        }
    }

    fn start(&mut self, f: &Arc<Frame>, wall_us: i64, out: &mut Vec<Action>) {
        let audio = f.audio.clone();
        // Audio that arrived before this segment's first frame has no place in it.
        self.audio_pending
            .retain(|a| a.session == f.session && a.pts_90k() >= f.pts);
        out.push(Action::Start {
            wall_us,
            params: f.params.clone(),
            audio: audio.clone(),
        });
        self.cur = Some(Current {
            session: f.session,
            params: f.params.clone(),
            wall_us,
            first_pts: f.pts,
            last_pts: f.pts,
            sequence: 0,
            pending: vec![f.clone()],
            audio,
        });
    }

    fn end(&mut self, out: &mut Vec<Action>) {
        if let Some(c) = self.cur.take() {
            let dur_us = (c.last_pts + self.last_interval.clamp(1, i64::from(TIMESCALE))
                - c.first_pts)
                * 1_000_000
                / i64::from(TIMESCALE);
            self.prev_end_us = c.wall_us + dur_us;
            out.push(Action::End);
        }
    }

    /// Writes the pending frames as one fragment; `last_duration` is the duration
    /// of the final pending frame.
    fn flush_fragment(&mut self, last_duration: i64, out: &mut Vec<Action>) {
        let Some(c) = &mut self.cur else { return };
        if c.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut c.pending);
        let samples: Vec<Sample> = pending
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let next = pending.get(i + 1).map_or(p.pts + last_duration, |n| n.pts);
                Sample {
                    duration: clamp_u32(next - p.pts),
                    size: crate::media::len_u32(p.data.len()),
                    key: p.key,
                }
            })
            .collect();
        c.sequence += 1;
        let start_90k = (pending[0].pts - c.first_pts) as u64;
        let duration_90k: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();
        // The audio up to the end of this fragment's video.
        let end_pts = c.first_pts + (start_90k + duration_90k) as i64;
        let split = self
            .audio_pending
            .iter()
            .position(|a| a.pts_90k() >= end_pts)
            .unwrap_or(self.audio_pending.len());
        let audio: Vec<Arc<AudioFrame>> = if c.audio.is_some() {
            self.audio_pending.drain(..split).collect()
        } else {
            Vec::new()
        };
        let audio_samples: Vec<Sample> = audio
            .iter()
            .enumerate()
            .map(|(i, a)| Sample {
                duration: audio
                    .get(i + 1)
                    .map_or(a.duration, |n| clamp_u32(n.pts - a.pts)),
                size: crate::media::len_u32(a.data.len()),
                key: true,
            })
            .collect();
        let rate = c.audio.as_ref().map_or(1, |p| i64::from(p.clock_rate));
        let audio_base = audio.first().map_or(0, |a| {
            (a.pts - c.first_pts * rate / i64::from(TIMESCALE)).max(0) as u64
        });
        let header = fragment_header(
            c.sequence,
            &[
                Run {
                    track_id: VIDEO_TRACK,
                    base_decode_time: start_90k,
                    sample_description_index: 1,
                    samples: &samples,
                },
                Run {
                    track_id: AUDIO_TRACK,
                    base_decode_time: audio_base,
                    sample_description_index: 1,
                    samples: &audio_samples,
                },
            ],
        );
        out.push(Action::Fragment(FragmentOut {
            header,
            data: pending
                .iter()
                .map(|p| p.data.clone())
                .chain(audio.iter().map(|a| a.data.clone()))
                .collect(),
            start_90k,
            duration_90k,
            frames: crate::media::len_u32(samples.len()),
            audio_frames: crate::media::len_u32(audio_samples.len()),
            starts_with_key: pending[0].key,
        }));
        if let Some(last) = pending.last() {
            c.last_pts = last.pts;
        }
    }
}

/// A duration in ticks as a sample's 32-bit field, at least 1.
fn clamp_u32(d: i64) -> u32 {
    u32::try_from(d.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "test data of known small sizes"
)]
mod tests {
    use super::*;
    use crate::ingest::frame::{AudioFrame, AudioParams};

    fn params(w: u32) -> Arc<VideoParams> {
        Arc::new(VideoParams {
            codec: "avc1.640020".into(),
            width: w,
            height: 720,
            sample_entry: vec![0; 8],
        })
    }

    /// 10 fps, a key frame every `gop` frames.
    fn frames(n: i64, gop: i64, session: u64, p: &Arc<VideoParams>) -> Vec<Arc<Frame>> {
        (0..n)
            .map(|i| {
                Arc::new(Frame {
                    session,
                    pts: 1000 + i * 9000,
                    wall_us: 1_700_000_000_000_000 + i * 100_000,
                    key: i % gop == 0,
                    data: Bytes::from(vec![0u8; 10]),
                    params: p.clone(),
                    audio: None,
                })
            })
            .collect()
    }

    fn run(s: &mut Segmenter, fs: &[Arc<Frame>]) -> Vec<Action> {
        let mut out = Vec::new();
        for f in fs {
            s.push(f, &mut out);
        }
        out
    }

    fn cfg() -> SegmenterConfig {
        SegmenterConfig {
            segment_90k: 5 * 90_000,
            fragment_90k: 90_000,
        }
    }

    /// (segments, fragments per segment, frames per segment, durations)
    fn summarize(actions: &[Action]) -> Vec<(u32, u32, u64)> {
        let mut v = Vec::new();
        for a in actions {
            match a {
                Action::Start { .. } => v.push((0, 0, 0)),
                Action::Fragment(f) => {
                    let l = v.last_mut().unwrap();
                    assert_eq!(f.start_90k, l.2, "fragments are contiguous");
                    l.0 += 1;
                    l.1 += f.frames;
                    l.2 += f.duration_90k;
                }
                Action::End => {}
            }
        }
        v
    }

    #[test]
    fn segments_start_on_key_frames_and_roll_over() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let mut out = run(&mut s, &frames(120, 20, 1, &p));
        s.finish(&mut out);
        let sum = summarize(&out);
        // 12 s at 10 fps, key every 2 s, segments >= 5 s: cut at 6 s and 12 s.
        assert_eq!(sum, vec![(6, 60, 540_000), (6, 60, 540_000)]);
    }

    #[test]
    fn long_gops_are_split_into_one_second_fragments() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let mut out = run(&mut s, &frames(40, 40, 1, &p));
        s.finish(&mut out);
        let sum = summarize(&out);
        assert_eq!(sum, vec![(4, 40, 360_000)]);
        let keys: Vec<bool> = out
            .iter()
            .filter_map(|a| match a {
                Action::Fragment(f) => Some(f.starts_with_key),
                _ => None,
            })
            .collect();
        assert_eq!(keys, vec![true, false, false, false]);
    }

    #[test]
    fn waits_for_a_key_frame() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let fs = frames(30, 20, 1, &p);
        let mut out = run(&mut s, &fs[5..]);
        s.finish(&mut out);
        assert_eq!(s.skipped(), 15);
        assert_eq!(summarize(&out), vec![(1, 10, 90_000)]);
    }

    #[test]
    fn new_session_params_or_jump_cut_the_segment() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let mut fs = frames(20, 10, 1, &p);
        // The camera restarted (a new session, its clock from zero again).
        fs.extend(frames(20, 10, 2, &p).into_iter().map(|f| {
            Arc::new(Frame {
                wall_us: f.wall_us + 2_000_000,
                ..Frame::clone_shallow(&f)
            })
        }));
        fs.extend(frames(20, 10, 2, &params(640)).into_iter().map(|f| {
            Arc::new(Frame {
                pts: f.pts + 20 * 9000,
                wall_us: f.wall_us + 4_000_000,
                ..Frame::clone_shallow(&f)
            })
        }));
        let mut out = run(&mut s, &fs);
        s.finish(&mut out);
        let sum = summarize(&out);
        assert_eq!(sum.len(), 3);
        assert!(sum.iter().all(|s| s.1 == 20));
    }

    #[test]
    fn a_timeline_re_anchored_backwards_never_overlaps_what_was_written() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let mut fs = frames(30, 10, 1, &p);
        // The clock model re-anchored 1.5 s back (a fast camera clock): a new
        // timeline whose first frames are stamped before the end written so far.
        let (first, end) = (fs[0].wall_us, fs[29].wall_us + 100_000);
        fs.extend(frames(40, 10, 2, &p).into_iter().map(|f| {
            Arc::new(Frame {
                wall_us: f.wall_us - first + end - 1_500_000,
                ..Frame::clone_shallow(&f)
            })
        }));
        let mut out = run(&mut s, &fs);
        s.finish(&mut out);
        let starts: Vec<i64> = out
            .iter()
            .filter_map(|a| match a {
                Action::Start { wall_us, .. } => Some(*wall_us),
                _ => None,
            })
            .collect();
        assert_eq!(starts.len(), 2);
        assert!(starts[1] >= end, "overlaps by {} µs", end - starts[1]);
        // Skipped: the frames before the end, then up to the next key frame.
        assert_eq!(s.skipped(), 20);
        assert_eq!(summarize(&out)[1].1, 20);
    }

    #[test]
    fn a_camera_that_stops_sending_key_frames_gets_segments_of_bounded_length() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let cap = cfg().max_segment_90k();
        // One key frame, then 20 minutes without one, then key frames again.
        let n = 2 * cap / 9000;
        let mut fs = frames(n, n, 1, &p);
        fs.extend(frames(20, 10, 1, &p).into_iter().map(|f| {
            Arc::new(Frame {
                pts: f.pts + n * 9000,
                wall_us: f.wall_us + n * 100_000,
                ..Frame::clone_shallow(&f)
            })
        }));
        let mut out = run(&mut s, &fs);
        s.finish(&mut out);
        let sum = summarize(&out);
        assert_eq!(sum.len(), 2, "{sum:?}");
        assert_eq!(sum[0].2 as i64, cap, "ends at the cap");
        assert_eq!(sum[1].1, 20, "starts again on the next key frame");
        assert_eq!(s.skipped(), (n - cap / 9000) as u64);
    }

    #[test]
    fn backwards_timestamps_never_make_negative_durations() {
        let p = params(1280);
        let mut s = Segmenter::new(cfg());
        let mut fs = frames(10, 5, 1, &p);
        fs.swap(6, 7);
        let mut out = run(&mut s, &fs);
        s.finish(&mut out);
        for a in &out {
            if let Action::Fragment(f) = a {
                assert!(f.duration_90k > 0);
            }
        }
    }

    #[test]
    fn audio_rides_with_the_video_fragment_covering_it() {
        let p = params(1280);
        let ap = Arc::new(AudioParams {
            codec: "mp4a.40.2".into(),
            clock_rate: 16_000,
            sample_entry: vec![0; 8],
        });
        let mut s = Segmenter::new(cfg());
        let video: Vec<Arc<Frame>> = frames(120, 20, 1, &p) // 12 s, pts from 1000
            .iter()
            .map(|f| {
                Arc::new(Frame {
                    audio: Some(ap.clone()),
                    ..Frame::clone_shallow(f)
                })
            })
            .collect();
        let mut out = Vec::new();
        // An audio frame every 64 ms from t=0 (before the first video frame) on.
        let mut next_audio = 0i64;
        let mut audio_sent = 0;
        for f in &video {
            while next_audio * 90_000 / 16_000 <= f.pts {
                s.push_audio(&Arc::new(AudioFrame {
                    session: 1,
                    pts: next_audio,
                    duration: 1024,
                    data: Bytes::from(vec![1u8; 3]),
                    params: ap.clone(),
                }));
                next_audio += 1024;
                audio_sent += 1;
            }
            s.push(f, &mut out);
        }
        s.finish(&mut out);
        let mut starts = 0;
        let mut audio_written = 0;
        for a in &out {
            match a {
                Action::Start { audio, .. } => {
                    starts += 1;
                    assert!(audio.is_some());
                }
                Action::Fragment(f) => {
                    audio_written += f.audio_frames;
                    assert_eq!(f.data.len() as u32, f.frames + f.audio_frames);
                }
                Action::End => {}
            }
        }
        assert_eq!(starts, 2);
        // Every audio frame from the first video frame on is written, the last
        // ones (after the last video frame) excepted.
        let expected = (0..audio_sent as i64)
            .filter(|i| i * 1024 * 90_000 / 16_000 >= 1000)
            .count() as u32;
        assert!(
            audio_written + 2 >= expected && audio_written <= expected,
            "{audio_written} of {expected}"
        );
    }

    impl Frame {
        fn clone_shallow(f: &Frame) -> Frame {
            Frame {
                session: f.session,
                pts: f.pts,
                wall_us: f.wall_us,
                key: f.key,
                data: f.data.clone(),
                params: f.params.clone(),
                audio: f.audio.clone(),
            }
        }
    }
}
