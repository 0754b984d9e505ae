//! Corrupt segments planted in the data directory (random bytes, a box cut short,
//! a 64-bit size of 2^63 and one that wraps, a torn fragment tail): start-up
//! quarantines the unreadable ones, repairs the torn one and records on, and
//! `hearth verify` reports what was moved aside. Never a panic or an abort.

mod common;

use common::*;

#[test]
fn corrupt_segments_are_quarantined_and_recording_goes_on() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let mut nvr = Nvr::one(
        "segment_duration = \"4s\"\nmin_free = \"1MB\"",
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.record_for(6);
    let data = nvr.data();
    let real = std::fs::read(data.join(&nvr.segments()[0].path)).expect("a recording");
    let ftyp = u32::from_be_bytes([real[0], real[1], real[2], real[3]]) as usize;
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let dir = data.join(format!("recordings/porch/main/{day}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let huge_moov = |size: u64| {
        let mut b = real[..ftyp].to_vec();
        b.extend_from_slice(&[0, 0, 0, 1]);
        b.extend_from_slice(b"moov");
        b.extend_from_slice(&size.to_be_bytes());
        b.extend_from_slice(&[0; 256]);
        b
    };
    let random: Vec<u8> = (0..100_000u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 11) & 0xff) as u8)
        .collect();
    let mut torn = real.clone();
    torn.extend_from_slice(&[0, 0, 0, 1]);
    torn.extend_from_slice(b"moof");
    torn.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
    let planted: [(&str, Vec<u8>); 5] = [
        ("00-00-01.mp4", random),
        ("00-00-02.mp4", real[..ftyp + 40].to_vec()),
        ("00-00-03.mp4", huge_moov(1 << 63)),
        ("00-00-04.mp4", huge_moov(u64::MAX - 7)),
        ("00-00-05.mp4", torn),
    ];
    for (name, bytes) in &planted {
        std::fs::write(dir.join(name), bytes).expect("plant");
    }
    let before = nvr.segments().len();
    nvr.record_for(6);
    let log = nvr.log_text();
    assert!(!log.contains("panicked"), "{log}");
    for name in ["00-00-01", "00-00-02", "00-00-03", "00-00-04"] {
        assert!(
            dir.join(format!("{name}.mp4.corrupt")).exists(),
            "{name} not quarantined: {log}"
        );
        assert!(!dir.join(format!("{name}.mp4")).exists());
    }
    // The torn one keeps its whole fragments and is indexed.
    let segs = nvr.segments();
    assert!(segs.iter().any(|s| s.path.ends_with("00-00-05.mp4")));
    assert!(segs.len() >= before + 2, "nothing recorded after the start");
    check_segments(&data, &segs);
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(!ok, "{out}");
    assert_eq!(out.matches("quarantined (unreadable").count(), 4, "{out}");
}
