//! The packed per-segment fragment index: for each fragment, its start time and
//! byte offset, so playback and export seek without reading the file.
//!
//! Each entry is 16 bytes, big-endian: start (90 kHz, relative to the segment)
//! u32, frames u16, flags u16 (bit 0: starts with a key frame), offset u64.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragIndex {
    pub start_90k: u32,
    pub frames: u16,
    pub key: bool,
    pub offset: u64,
}

pub fn encode(entries: &[FragIndex]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 16);
    for e in entries {
        out.extend_from_slice(&e.start_90k.to_be_bytes());
        out.extend_from_slice(&e.frames.to_be_bytes());
        out.extend_from_slice(&u16::from(e.key).to_be_bytes());
        out.extend_from_slice(&e.offset.to_be_bytes());
    }
    out
}

/// `None` when the blob is not a whole number of entries.
pub fn decode(blob: &[u8]) -> Option<Vec<FragIndex>> {
    if blob.len() % 16 != 0 {
        return None;
    }
    Some(
        blob.chunks_exact(16)
            .map(|c| FragIndex {
                start_90k: u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                frames: u16::from_be_bytes([c[4], c[5]]),
                key: u16::from_be_bytes([c[6], c[7]]) & 1 != 0,
                offset: u64::from_be_bytes([c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]]),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let v = vec![
            FragIndex {
                start_90k: 0,
                frames: 20,
                key: true,
                offset: 900,
            },
            FragIndex {
                start_90k: 180_000,
                frames: 7,
                key: false,
                offset: 1 << 33,
            },
        ];
        assert_eq!(decode(&encode(&v)).unwrap(), v);
        assert!(decode(&[0; 15]).is_none());
    }
}
