//! The bodies of Hearth's fuzz targets: each takes arbitrary bytes and feeds them
//! to a parser of untrusted input, asserting what must hold of any answer. The
//! libFuzzer binaries (`fuzz_targets/`) call these; `tests/fuzz_regressions.rs`
//! runs them over every kept input under `cargo test`.

use axum::http::HeaderValue;
use hearth::ingest::sdp_params;
use hearth::media::{fmp4, h264, h265, reader};
use hearth::web::{api::RangeQuery, media};

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// Every target by name, for runners that go by the directory names.
pub const TARGETS: &[(&str, Body)] = &[
    ("mp4_file", mp4_file),
    ("config", config),
    ("http_range_time", http_range_time),
    ("parameter_sets", parameter_sets),
    ("rtsp_request", rtsp_request),
];

/// A segment file as recovery and playback read it from disk: the MP4 reader
/// over the whole file, the fragment index recovery derives from it, and a lone
/// `moof` as playback parses one.
pub fn mp4_file(data: &[u8]) {
    if let Ok(parsed) = reader::parse(&mut std::io::Cursor::new(data)) {
        assert!(parsed.valid_len <= parsed.file_len);
        let _ = hearth::record::recovery::progress_of(&parsed);
    }
    let _ = reader::parse_moof(data, 0);
}

/// The config parser and its validation (`hearth check`), over any text.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hearth::config::Config::parse(text, std::path::Path::new("fuzz.toml"));
    }
}

/// What a browser sends to playback: `Range` and `If-Range` against a file length
/// (the first 8 bytes), and the RFC 3339 times of a range query (lines).
pub fn http_range_time(data: &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let len = u64::from_le_bytes(*len);
    if let Ok(h) = HeaderValue::from_bytes(rest) {
        // A range is [start, end), inside the content.
        if let Ok(Some((start, end))) = media::parse_range(Some(&h), len) {
            assert!(start < end && end <= len, "range {start}-{end} of {len}");
        }
        let _ = media::if_range_holds(Some(&h), "\"abc\"");
    }
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, '\n');
    let q = RangeQuery {
        from: parts.next().unwrap_or_default().to_owned(),
        to: parts.next().unwrap_or_default().to_owned(),
        stream: parts.next().map(str::to_owned),
    };
    if let Ok((from, to, _)) = q.parse() {
        assert!(from < to, "{from} !< {to}");
    }
}

/// H.264/H.265 parameter sets and NAL framing as they come from a camera or a
/// stored sample entry: a raw SDP's `sprop-parameter-sets` and the sample entry
/// made from an SPS and PPS (the first byte splits the rest in two), avcC
/// records, codec strings (RFC 6381, from the sample entry's avcC/hvcC), Annex B
/// and length-prefixed NAL units, H.265 access units.
pub fn parameter_sets(data: &[u8]) {
    if let Some((sps, pps)) = sdp_params::h264_parameter_sets(data, 96) {
        let _ = h264::avc_sample_entry(&sps, &pps);
    }
    if let Some((&at, rest)) = data.split_first() {
        let (sps, pps) = rest.split_at(usize::from(at).min(rest.len()));
        if let Ok(p) = h264::avc_sample_entry(sps, pps) {
            assert_eq!(
                h264::parse_avcc(&p.sample_entry[94..]).map(|c| c.sps),
                Ok(vec![sps.to_vec()])
            );
        }
    }
    let _ = h264::parse_avcc(data);
    let _ = fmp4::codec_string(data);
    let _ = h264::annexb_nals(data);
    for len_size in 1..=4 {
        if let Ok(nals) = h264::length_prefixed_nals(data, len_size) {
            assert!(nals.iter().map(|n| n.len()).sum::<usize>() <= data.len());
        }
    }
    let _ = h265::is_irap_access_unit(data);
}

/// The bytes an RTSP client sends the simulated camera: request lines, headers,
/// bodies, interleaved data, Authorization parameters.
pub fn rtsp_request(data: &[u8]) {
    hearth::fakecam::server::parse_requests(data);
}
