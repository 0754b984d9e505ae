//! H.264 RTP packetization (RFC 6184): single NAL unit packets and FU-A fragments,
//! the marker bit on the last packet of each picture.

/// Largest RTP payload sent.
pub const MAX_PAYLOAD: usize = 1400;

pub struct Packetizer {
    pub ssrc: u32,
    pub seq: u16,
}

impl Packetizer {
    fn header(&mut self, out: &mut Vec<u8>, marker: bool, ts: u32) {
        out.push(0x80);
        out.push(96 | if marker { 0x80 } else { 0 });
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        self.seq = self.seq.wrapping_add(1);
    }

    /// Packetizes one picture; calls `emit` with each RTP packet in order.
    pub fn picture(&mut self, nals: &[impl AsRef<[u8]>], ts: u32, mut emit: impl FnMut(Vec<u8>)) {
        let count = nals.len();
        for (i, nal) in nals.iter().enumerate() {
            let nal = nal.as_ref();
            let last_nal = i + 1 == count;
            if nal.is_empty() {
                continue;
            }
            if nal.len() <= MAX_PAYLOAD {
                let mut p = Vec::with_capacity(12 + nal.len());
                self.header(&mut p, last_nal, ts);
                p.extend_from_slice(nal);
                emit(p);
                continue;
            }
            let indicator = (nal[0] & 0xe0) | 28;
            let typ = nal[0] & 0x1f;
            let body = &nal[1..];
            let chunks = body.len().div_ceil(MAX_PAYLOAD - 2);
            for (k, chunk) in body.chunks(MAX_PAYLOAD - 2).enumerate() {
                let (start, end) = (k == 0, k + 1 == chunks);
                let mut p = Vec::with_capacity(14 + chunk.len());
                self.header(&mut p, last_nal && end, ts);
                p.push(indicator);
                p.push(typ | if start { 0x80 } else { 0 } | if end { 0x40 } else { 0 });
                p.extend_from_slice(chunk);
                emit(p);
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "test data of known small sizes"
)]
mod tests {
    use super::*;

    #[test]
    fn large_nals_become_fu_a_and_reassemble() {
        let big: Vec<u8> = std::iter::once(0x65)
            .chain((0..4000).map(|i| i as u8))
            .collect();
        let small = vec![0x06, 1, 2];
        let mut p = Packetizer {
            ssrc: 7,
            seq: 65534,
        };
        let mut pkts = Vec::new();
        p.picture(&[small.clone(), big.clone()], 1234, |x| pkts.push(x));
        assert_eq!(pkts.len(), 1 + 3);
        assert_eq!(&pkts[0][12..], &small[..]);
        let markers: Vec<bool> = pkts.iter().map(|x| x[1] & 0x80 != 0).collect();
        assert_eq!(markers, vec![false, false, false, true]);
        let mut re = vec![(pkts[1][12] & 0xe0) | (pkts[1][13] & 0x1f)];
        for x in &pkts[1..] {
            re.extend_from_slice(&x[14..]);
        }
        assert_eq!(re, big);
        assert_eq!(p.seq, 2); // wrapped
    }
}
