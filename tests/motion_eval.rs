//! Detection quality on the evaluation set (bench/motion): the scenes are rendered
//! from real photographs and scored with `hearth detect`; every labelled event must
//! be found, no event raised where nothing moves, and time F1 stay high. (The side
//! by side with Debian's `motion` daemon runs in scripts/eval-motion.sh.)

use std::path::Path;
use std::process::Command;

const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

fn python(args: &[&str]) -> String {
    let out = Command::new("/usr/bin/python3")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn hearth_finds_every_event_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenes = dir.path().to_str().expect("utf-8 path");
    python(&["bench/motion/scenes.py", scenes]);
    let result = dir.path().join("result.json");
    let table = python(&[
        "bench/motion/score.py",
        "--hearth",
        HEARTH,
        "--scenes",
        scenes,
        "--no-motion-daemon",
        "--json",
        result.to_str().expect("utf-8 path"),
    ]);
    println!("{table}");
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).expect("read")).expect("JSON")
    };
    let listing = read(&dir.path().join("scenes.json"));
    let labelled: usize = listing["scenes"]
        .as_array()
        .expect("scenes")
        .iter()
        .map(|s| s["truth"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(labelled >= 9, "{listing}");
    let t = &read(&result)["totals"]["Hearth"];
    let n = |k: &str| t[k].as_u64().unwrap_or(u64::MAX);
    assert_eq!(n("found"), labelled as u64, "{table}");
    assert_eq!(n("false"), 0, "{table}");
    let f1 = 2.0 * n("tp") as f64 / (2 * n("tp") + n("fp") + n("fn")) as f64;
    assert!(f1 > 0.9, "time F1 {f1:.3}\n{table}");
}
