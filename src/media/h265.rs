//! H.265 bitstream helpers.

use super::h264::length_prefixed_nals;

/// The NAL unit type of an H.265 NAL unit (first header byte, bits 1..7).
pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0xff, |b| (b >> 1) & 0x3f)
}

/// True when a length-prefixed access unit is an intra random access point: all its
/// picture (VCL) NAL units are IDR, CRA or BLA. Retina flags only IDR pictures, but
/// many encoders (x265 by default, some cameras) put CRA pictures at GOP starts.
pub fn is_irap_access_unit(data: &[u8]) -> bool {
    let Ok(nals) = length_prefixed_nals(data, 4) else {
        return false;
    };
    let mut vcl = nals
        .iter()
        .map(|n| nal_type(n))
        .filter(|&t| t < 32)
        .peekable();
    vcl.peek().is_some() && vcl.all(|t| (16..=23).contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn au(types: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        for &t in types {
            d.extend_from_slice(&[0, 0, 0, 3, t << 1, 1, 0xaa]);
        }
        d
    }

    #[test]
    fn cra_idr_and_bla_are_random_access_points() {
        assert!(is_irap_access_unit(&au(&[32, 33, 34, 21]))); // VPS SPS PPS CRA
        assert!(is_irap_access_unit(&au(&[19]))); // IDR_W_RADL
        assert!(is_irap_access_unit(&au(&[16]))); // BLA_W_LP
        assert!(!is_irap_access_unit(&au(&[1]))); // TRAIL_R
        assert!(!is_irap_access_unit(&au(&[39]))); // SEI only
        assert!(!is_irap_access_unit(&au(&[21, 1])));
        assert!(!is_irap_access_unit(&[0, 0, 0, 9, 1]));
    }
}
