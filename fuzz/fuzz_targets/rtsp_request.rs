//! libFuzzer entry for `hearth_fuzz::rtsp_request` (see `fuzz/src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::rtsp_request(data));
