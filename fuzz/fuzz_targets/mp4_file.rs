//! libFuzzer entry for `hearth_fuzz::mp4_file` (see `fuzz/src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::mp4_file(data));
