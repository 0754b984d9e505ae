//! Upgrading from the oldest schema: a data directory written by the first Hearth
//! (tests/fixtures/v1-data, schema 1) is opened by this one. Every migration
//! applies, the schema ends as a fresh one's, the old recordings keep their index
//! rows and export, and the new parts (users, the audit log, recording) work on it.

mod common;

use common::*;
use rusqlite::Connection;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// The schema as SQLite holds it: every table, index and column, sorted.
fn schema(db: &Path) -> (i64, Vec<String>) {
    let c = Connection::open(db).expect("open");
    let version = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    let mut s = c
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("prepare");
    let rows = s
        .query_map([], |r| {
            Ok(format!(
                "{} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?.unwrap_or_default()
            ))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    (version, rows)
}

/// The old segments' rows as schema 1 knew them.
fn v1_segments(db: &Path) -> Vec<(i64, i64, i64, i64, i64, String, i64)> {
    let c = Connection::open(db).expect("open");
    let mut s = c
        .prepare("SELECT id, start_us, duration_90k, bytes, frames, path, state FROM segments WHERE id <= 3 ORDER BY id")
        .expect("prepare");
    s.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .expect("query")
    .collect::<Result<Vec<_>, _>>()
    .expect("rows")
}

#[test]
fn a_data_directory_from_the_first_schema_upgrades_and_keeps_its_footage() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-data");
    let (v, _) = schema(&fixture.join("hearth.db"));
    assert_eq!(v, 1, "the fixture is the first schema");
    let before = v1_segments(&fixture.join("hearth.db"));
    assert_eq!(before.len(), 3);

    let port = free_port();
    let _cam = fake_camera(port, None);
    // A fresh install beside it, for the schema it should end with.
    let fresh = Nvr::one(
        "min_free = \"1MB\"",
        "porch",
        format!("rtsp://127.0.0.1:{port}/sub"),
        None,
    );
    let mut old = Nvr::one(
        "min_free = \"1MB\"",
        "porch",
        format!("rtsp://127.0.0.1:{port}/sub"),
        None,
    );
    std::fs::remove_dir_all(old.data()).expect("clear");
    copy_dir(&fixture, &old.data());

    // The first command to open it migrates it; the files match their rows.
    let (ok, out) = old.cli(&["verify"]);
    assert!(ok && out.contains("3 segments consistent"), "{out}");
    let db = old.data().join("hearth.db");
    assert_eq!(schema(&db), schema(&fresh.data().join("hearth.db")));
    assert_eq!(v1_segments(&db), before, "the old rows are untouched");

    // What schema 1 did not have works on it: users, the audit log, recording.
    old.add_user("ann", "viewer", "porch", "ann-password-1");
    old.start();
    assert!(
        wait_until(std::time::Duration::from_secs(30), || old.segments().len()
            > 3),
        "records beside the old footage: {}",
        old.log_text()
    );
    old.stop();
    let segs = old.segments();
    assert!(
        segs.iter()
            .all(|s| s.camera == "porch" && s.stream == "main"),
        "{segs:?}"
    );
    let (ok, out) = old.cli(&["audit", "verify"]);
    assert!(ok, "{out}");

    // The old footage exports and decodes, audited.
    let from = before[0].1;
    let to = before[2].1 + before[2].2 * 1_000_000 / 90_000;
    let file = old.export("porch", from, to);
    assert_eq!(
        assert_decodes(&file),
        60,
        "every frame of the three old segments"
    );
    let (ok, out) = old.cli(&["audit", "list"]);
    assert!(ok && out.contains("export\tporch"), "{out}");
}
