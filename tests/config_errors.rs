//! `hearth check` on each kind of bad config: the message names file, line and key,
//! the exit code is 2, and no password ever appears.

use std::process::Command;

const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

const GOOD: &str = r#"[storage]
data_dir = "data"
max_bytes = "10GB"

[[cameras]]
name = "front"
url = "rtsp://192.168.1.20:554/main"
username = "admin"
password = "topsecret"
"#;

fn check(text: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hearth.toml");
    std::fs::write(&path, text).expect("write");
    let out = Command::new(HEARTH)
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        path.display().to_string(),
    )
}

#[track_caller]
fn assert_bad(text: &str, line: usize, key: &str, words: &str) {
    let (code, err, path) = check(text);
    assert_eq!(code, Some(2), "{err}");
    let want = format!("{path}:{line}: key `{key}`");
    assert!(err.contains(&want), "want {want:?} in {err:?}");
    assert!(err.contains(words), "want {words:?} in {err:?}");
    assert!(!err.contains("topsecret"), "password in {err:?}");
}

#[test]
fn good_config_passes() {
    let (code, err, _) = check(GOOD);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn each_kind_of_mistake_is_named() {
    // Plain HTTP only on loopback: on the LAN the cookie and footage would be in the clear.
    let lan = format!("{GOOD}\n[server]\nlisten = \"0.0.0.0:8080\"\ntls = \"off\"\n");
    assert_bad(&lan, 13, "tls", "loopback");
    let local = format!("{GOOD}\n[server]\nlisten = \"127.0.0.1:8080\"\ntls = \"off\"\n");
    assert_eq!(check(&local).0, Some(0));
    assert_bad(
        &GOOD.replace("username", "usrname"),
        8,
        "usrname",
        "unknown field",
    );
    assert_bad(
        &GOOD.replace("rtsp://192.168.1.20:554/main", "http://cam/"),
        7,
        "url",
        "rtsp://",
    );
    assert_bad(
        &GOOD.replace("rtsp://192.168.1.20:554/main", "rtsp://[::1"),
        7,
        "url",
        "not a valid URL",
    );
    assert_bad(
        &GOOD.replace("rtsp://192.168.1.20", "rtsp://admin:topsecret@192.168.1.20"),
        7,
        "url",
        "not in the URL",
    );
    assert_bad(
        &format!("{GOOD}\n[[cameras]]\nname = \"front\"\nurl = \"rtsp://h/\"\n"),
        12,
        "name",
        "duplicate camera name",
    );
    assert_bad(
        &GOOD.replace("10GB", "ten gigs"),
        3,
        "max_bytes",
        "not a size",
    );
    assert_bad(
        &GOOD.replace("max_bytes = \"10GB\"", "max_age = \"3 weeks\""),
        3,
        "max_age",
        "duration",
    );
    assert_bad(
        &GOOD.replace("name = \"front\"", "name = \"../etc\""),
        6,
        "name",
        "letters, digits",
    );
    assert_bad(
        &GOOD.replace("password = \"topsecret\"", "password = 42"),
        9,
        "password",
        "expected",
    );
    assert_bad(
        &GOOD.replace("[storage]", "[storage]\nsegment_duration = \"1s\""),
        2,
        "segment_duration",
        "between 2s and 1h",
    );
    assert_bad(
        &GOOD.replace("[storage]", "[storage]\nsegment_duration = \"2h\""),
        2,
        "segment_duration",
        "between 2s and 1h",
    );
    assert_bad(
        &GOOD.replace("[storage]", "[storage]\nfragment_duration = \"30s\""),
        2,
        "fragment_duration",
        "between 100ms and 10s",
    );
    assert_bad(
        &GOOD.replace("[storage]", "[storage]\nindex_cache = \"16KiB\""),
        2,
        "index_cache",
        "between 64KiB and 1GiB",
    );
    assert_bad(
        &GOOD.replace(
            "[storage]",
            "[server]\nlisten = \"127.0.0.1:8443\"\ntimezone = \"Europe/Atlantis\"\n\n[storage]",
        ),
        3,
        "timezone",
        "IANA name",
    );
    assert_bad(
        &GOOD.replace(
            "password = \"topsecret\"",
            "password_file = \"missing.pass\"",
        ),
        9,
        "password_file",
        "cannot read",
    );
    assert_bad(
        &format!("{GOOD}record = \"sometimes\"\n"),
        10,
        "record",
        "expected",
    );
}

#[test]
fn unreadable_file_and_toml_syntax() {
    let out = Command::new(HEARTH)
        .args(["check", "--config", "/nonexistent/hearth.toml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/hearth.toml: cannot read"));
    let (code, err, path) = check("[storage\ndata_dir = 1\n");
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("{path}:1:")), "{err}");
}
