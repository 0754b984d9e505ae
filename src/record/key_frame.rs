//! The key frame at or before a moment of a recording, found through the index's
//! fragment table and read straight from the segment file: the picture a timeline
//! shows while it is dragged. Every fragment a recorder writes begins with a key
//! frame, so the picture is at most one GOP before the moment.

use super::export::{read_moof, us_to_90k};
use super::layout;
use crate::footage::Footage;
use crate::ingest::frame::VideoParams;
use crate::store::{FragIndex, SegmentRow};

/// A key frame is never larger than this (a 4K I-frame is a few MB).
const MAX_KEY_FRAME: u32 = 32 << 20;

/// A recorded key frame and what decodes it.
pub struct KeyFrame {
    /// The segment and the fragment's byte offset in it: the picture's identity.
    pub segment_id: i64,
    pub offset: u64,
    /// When it was taken (UTC µs).
    pub at_us: i64,
    pub params: VideoParams,
    /// The access unit, length-prefixed NAL units as in the file.
    pub data: Vec<u8>,
}

/// The segment recorded at `at_us` and its last key fragment starting at or
/// before it; `None` when nothing was recorded then.
pub fn locate(segs: &[SegmentRow], at_us: i64) -> Option<(&SegmentRow, FragIndex)> {
    let seg = segs
        .iter()
        .filter(|s| s.start_us <= at_us && at_us < s.end_us())
        .max_by_key(|s| s.start_us)?;
    let rel = us_to_90k(at_us) - us_to_90k(seg.start_us);
    let frag = seg
        .progress
        .fragments
        .iter()
        .rfind(|f| f.key && i64::from(f.start_90k) <= rel)?;
    Some((seg, *frag))
}

/// Reads the key frame `locate` found.
pub fn read(footage: &Footage, seg: &SegmentRow, frag: FragIndex) -> Result<KeyFrame, String> {
    let path = layout::absolute(footage.dir(), &seg.path);
    let fail = |e: String| format!("{}: {e}", path.display());
    let mut file = footage.open_file(&path).map_err(|e| fail(e.to_string()))?;
    let moof = read_moof(&mut file, frag.offset).map_err(fail)?;
    let first = moof
        .samples
        .first()
        .filter(|s| s.key)
        .ok_or_else(|| fail("the fragment does not begin with a key frame".into()))?;
    if first.size > MAX_KEY_FRAME {
        return Err(fail(format!("a key frame of {} bytes", first.size)));
    }
    let mut data = vec![0; first.size as usize];
    file.read_exact_at(moof.data_offset, &mut data)
        .map_err(|e| fail(e.to_string()))?;
    Ok(KeyFrame {
        segment_id: seg.id,
        offset: frag.offset,
        at_us: seg.start_us + i64::from(frag.start_90k) * 100 / 9,
        params: VideoParams {
            codec: seg.codec.clone(),
            width: seg.width,
            height: seg.height,
            sample_entry: seg.sample_entry.clone(),
        },
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Progress, SegmentState};

    fn seg(id: i64, start_us: i64, secs: u64, keys: &[u32]) -> SegmentRow {
        SegmentRow {
            id,
            stream_id: 1,
            camera: "front".into(),
            stream: "main".into(),
            start_us,
            path: format!("{id}.mp4"),
            codec: "avc1.64001f".into(),
            width: 640,
            height: 360,
            sample_entry: Vec::new(),
            audio: None,
            progress: Progress {
                duration_90k: secs * 90_000,
                fragments: keys
                    .iter()
                    .map(|s| FragIndex {
                        start_90k: s * 90_000,
                        frames: 15,
                        key: true,
                        offset: u64::from(*s) * 1000,
                    })
                    .collect(),
                ..Progress::default()
            },
            state: SegmentState::Complete,
        }
    }

    #[test]
    fn the_key_fragment_at_or_before_the_moment_of_the_segment_recorded_then() {
        let s = 1_000_000;
        let segs = [seg(1, 0, 4, &[0, 2]), seg(2, 6 * s, 4, &[0, 1, 2, 3])];
        let found = |at| locate(&segs, at).map(|(seg, f)| (seg.id, f.start_90k / 90_000));
        assert_eq!(found(0), Some((1, 0)));
        assert_eq!(found(3 * s), Some((1, 2)));
        assert_eq!(found(4 * s), None, "between the segments");
        assert_eq!(found(8 * s + s / 2), Some((2, 2)));
        assert_eq!(found(10 * s), None, "after the last");
        assert_eq!(found(-1), None);
    }
}
