//! H.264 parameter sets read from a camera's raw SDP (pure), for when the RTSP
//! library could not read them: VLC's RTSP server ends its `a=fmtp` line with `;`,
//! which retina refuses as "key without value", and cheap cameras have such quirks
//! too. This reader skips empty parameters and takes what it can.

use crate::media::h264::{NAL_PPS, NAL_SPS, nal_type};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Base64 with or without its padding, as cameras write it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The first SPS and PPS of `sprop-parameter-sets` in the `a=fmtp` of RTP payload
/// type `payload_type` in a video section of `sdp`.
pub fn h264_parameter_sets(sdp: &[u8], payload_type: u8) -> Option<(Vec<u8>, Vec<u8>)> {
    let text = String::from_utf8_lossy(sdp);
    let mut in_video = false;
    let prefix = format!("a=fmtp:{payload_type} ");
    for line in text.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            in_video = m.starts_with("video ");
            continue;
        }
        let Some(params) = line.strip_prefix(&prefix).filter(|_| in_video) else {
            continue;
        };
        for p in params.split(';').map(str::trim) {
            let Some((key, value)) = p.split_once('=') else {
                continue;
            };
            if !key.trim().eq_ignore_ascii_case("sprop-parameter-sets") {
                continue;
            }
            let (mut sps, mut pps) = (None, None);
            for nal in value.split(',').filter_map(|v| B64.decode(v.trim()).ok()) {
                match nal_type(&nal) {
                    NAL_SPS if sps.is_none() => sps = Some(nal),
                    NAL_PPS if pps.is_none() => pps = Some(nal),
                    _ => {}
                }
            }
            if let (Some(s), Some(p)) = (sps, pps) {
                return Some((s, p));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What VLC 3.0's RTSP server sends for an H.264 clip (its `fmtp` ends in `;`).
    const VLC: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Unnamed\r\nt=0 0\r\n\
        a=tool:vlc 3.0.18\r\nm=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/44100\r\n\
        a=fmtp:96 streamtype=5; profile-level-id=15;\r\nm=video 0 RTP/AVP 96\r\n\
        b=RR:0\r\na=rtpmap:96 H264/90000\r\n\
        a=fmtp:96 packetization-mode=1;profile-level-id=64001f;\
        sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMB4PGDGWA=,aOvjyyLA;\r\n\
        a=control:rtsp://127.0.0.1:8554/cam/trackID=1\r\n";

    #[test]
    fn reads_parameter_sets_from_a_fmtp_with_a_trailing_semicolon() {
        let (sps, pps) = h264_parameter_sets(VLC.as_bytes(), 96).expect("parameter sets");
        assert_eq!(nal_type(&sps), NAL_SPS);
        assert_eq!(nal_type(&pps), NAL_PPS);
        let p = crate::media::h264::avc_sample_entry(&sps, &pps).expect("sample entry");
        assert_eq!(
            (p.codec.as_str(), p.width, p.height),
            ("avc1.64001F", 1280, 720)
        );
        assert_eq!(
            crate::media::fmp4::codec_string(&p.sample_entry),
            "avc1.64001f"
        );
        // The entry's avcC holds the same parameter sets.
        let at = p
            .sample_entry
            .windows(4)
            .position(|w| w == b"avcC")
            .expect("avcC");
        let cfg = crate::media::h264::parse_avcc(&p.sample_entry[at + 4..]).expect("avcC");
        assert_eq!(
            (cfg.sps, cfg.pps, cfg.length_size),
            (vec![sps], vec![pps], 4)
        );
    }

    #[test]
    fn takes_no_audio_section_and_no_other_payload_type() {
        let audio_only = VLC.replace("m=video", "m=text");
        assert_eq!(h264_parameter_sets(audio_only.as_bytes(), 96), None);
        assert_eq!(h264_parameter_sets(VLC.as_bytes(), 97), None);
        assert_eq!(h264_parameter_sets(b"\xff\xfe garbage", 96), None);
    }
}
