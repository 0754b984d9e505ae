//! H.264 bitstream helpers: splitting Annex B and length-prefixed access units into
//! NAL units, reading an `AVCDecoderConfigurationRecord`, and making an `avc1`
//! sample entry from an SPS and a PPS.

/// The NAL unit type of a NAL unit (its first byte's low five bits).
pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

pub const NAL_IDR: u8 = 5;
pub const NAL_SPS: u8 = 7;
pub const NAL_PPS: u8 = 8;

/// Splits an Annex B byte stream (start codes `00 00 01` / `00 00 00 01`) into NAL units.
pub fn annexb_nals(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &(_, body)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&(sc, _)| sc);
        // A four-byte start code's leading zero, and trailing zeros, belong to no NAL.
        while end > body && data[end - 1] == 0 {
            end -= 1;
        }
        if end > body {
            out.push(&data[body..end]);
        }
    }
    out
}

/// Splits a length-prefixed access unit (as in MP4 samples) into NAL units.
pub fn length_prefixed_nals(data: &[u8], len_size: usize) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.len() < len_size {
            return Err("truncated NAL length".into());
        }
        let len = rest[..len_size]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        rest = &rest[len_size..];
        if len > rest.len() {
            return Err("NAL length overruns the access unit".into());
        }
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(out)
}

/// The parameter sets and NAL length size of an `AVCDecoderConfigurationRecord`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    pub length_size: usize,
}

pub fn parse_avcc(rec: &[u8]) -> Result<AvcConfig, String> {
    let err = || "malformed AVCDecoderConfigurationRecord".to_string();
    if rec.len() < 7 || rec[0] != 1 {
        return Err(err());
    }
    let length_size = usize::from(rec[4] & 3) + 1;
    let mut at = 5;
    let take = |count: usize, at: &mut usize| -> Result<Vec<Vec<u8>>, String> {
        let mut v = Vec::new();
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes([
                *rec.get(*at).ok_or_else(err)?,
                *rec.get(*at + 1).ok_or_else(err)?,
            ]));
            let s = rec.get(*at + 2..*at + 2 + len).ok_or_else(err)?;
            v.push(s.to_vec());
            *at += 2 + len;
        }
        Ok(v)
    };
    let n_sps = usize::from(rec[at] & 0x1f);
    at += 1;
    let sps = take(n_sps, &mut at)?;
    let n_pps = usize::from(*rec.get(at).ok_or_else(err)?);
    at += 1;
    let pps = take(n_pps, &mut at)?;
    if sps.is_empty() || pps.is_empty() {
        return Err(err());
    }
    Ok(AvcConfig {
        sps,
        pps,
        length_size,
    })
}

/// What a stream needs to know of its codec, made from its parameter sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcParams {
    /// RFC 6381, as the RTSP library writes it (`avc1.64001F`).
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// The complete `avc1` sample entry box, with its `avcC`.
    pub sample_entry: Vec<u8>,
}

/// The `avc1` sample entry (ISO/IEC 14496-15 5.4.2) for one SPS and one PPS (NAL
/// units with their headers), with the picture size read from the SPS.
pub fn avc_sample_entry(sps: &[u8], pps: &[u8]) -> Result<AvcParams, String> {
    if nal_type(sps) != NAL_SPS || nal_type(pps) != NAL_PPS {
        return Err("not an SPS and a PPS".into());
    }
    let rbsp = h264_reader::rbsp::decode_nal(sps).map_err(|e| format!("bad SPS: {e}"))?;
    let (profile, compat, level) = match rbsp.get(..3) {
        Some(&[p, c, l]) => (p, c, l),
        _ => return Err("SPS too short".into()),
    };
    let parsed = h264_reader::nal::sps::SeqParameterSet::from_bits(
        h264_reader::rbsp::BitReader::new(&*rbsp),
    )
    .map_err(|e| format!("bad SPS: {e:?}"))?;
    let (width, height) = parsed
        .pixel_dimensions()
        .map_err(|e| format!("SPS picture size: {e:?}"))?;
    let dim = |v: u32| u16::try_from(v).map_err(|_| format!("picture size {width}x{height}"));
    let (w16, h16) = (dim(width)?, dim(height)?);
    let len16 = |n: &[u8]| u16::try_from(n.len()).map_err(|_| "parameter set too long".to_string());
    let (sps_len, pps_len) = (len16(sps)?, len16(pps)?);
    let mut entry = Vec::with_capacity(120 + sps.len() + pps.len());
    super::boxes::write_box(&mut entry, b"avc1", |b| {
        b.extend_from_slice(&[0; 6]); // reserved
        super::boxes::put_u16(b, 1); // data reference index
        b.extend_from_slice(&[0; 16]); // pre-defined, reserved
        super::boxes::put_u16(b, w16);
        super::boxes::put_u16(b, h16);
        super::boxes::put_u32(b, 0x0048_0000); // 72 dpi
        super::boxes::put_u32(b, 0x0048_0000);
        super::boxes::put_u32(b, 0); // reserved
        super::boxes::put_u16(b, 1); // frame count
        b.extend_from_slice(&[0; 32]); // compressor name
        super::boxes::put_u16(b, 0x0018); // depth
        super::boxes::put_u16(b, 0xffff); // pre-defined -1
        super::boxes::write_box(b, b"avcC", |c| {
            c.extend_from_slice(&[1, profile, compat, level]);
            c.push(0xff); // 4-byte NAL lengths
            c.push(0xe1); // one SPS
            super::boxes::put_u16(c, sps_len);
            c.extend_from_slice(sps);
            c.push(1); // one PPS
            super::boxes::put_u16(c, pps_len);
            c.extend_from_slice(pps);
        });
    });
    Ok(AvcParams {
        codec: format!("avc1.{profile:02X}{compat:02X}{level:02X}"),
        width,
        height,
        sample_entry: entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_annexb_with_both_start_code_lengths() {
        let d = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9, 9,
        ];
        let n = annexb_nals(&d);
        assert_eq!(
            n,
            vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 9, 9][..]]
        );
        assert_eq!(nal_type(n[2]), NAL_IDR);
    }

    #[test]
    fn length_prefixed_rejects_overruns() {
        assert_eq!(
            length_prefixed_nals(&[0, 0, 0, 2, 9, 9, 0, 0, 0, 1, 7], 4).unwrap(),
            vec![&[9, 9][..], &[7][..]]
        );
        assert!(length_prefixed_nals(&[0, 0, 0, 9, 1], 4).is_err());
    }

    #[test]
    fn reads_avcc() {
        let rec = [1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 2, 0x67, 1, 1, 0, 1, 0x68];
        let c = parse_avcc(&rec).unwrap();
        assert_eq!(c.sps, vec![vec![0x67, 1]]);
        assert_eq!(c.pps, vec![vec![0x68]]);
        assert_eq!(c.length_size, 4);
        assert!(parse_avcc(&rec[..9]).is_err());
    }
}
