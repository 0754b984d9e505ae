//! The fuzz targets' bodies (`fuzz/src/lib.rs`) over every kept input: the seeds,
//! each crash the fuzzers found (`fuzz/regressions/TARGET`, kept once fixed), and
//! the seeds this checkout's tests recorded. A panic here is a parser that
//! breaks on some bytes again.

#[path = "../fuzz/src/lib.rs"]
mod bodies;

use std::path::Path;

#[test]
fn every_kept_fuzz_input_parses_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (target, body) in bodies::TARGETS {
        for dir in ["fuzz/seeds", "fuzz/regressions", "target/fuzz-seeds"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for e in entries.flatten() {
                let bytes = std::fs::read(e.path()).expect("read input");
                let outcome = std::panic::catch_unwind(|| body(&bytes));
                assert!(outcome.is_ok(), "{target}: {} panics", e.path().display());
                ran += 1;
            }
        }
    }
    assert!(ran >= 10, "only {ran} inputs found");
    println!("{ran} kept fuzz inputs parsed");
}
