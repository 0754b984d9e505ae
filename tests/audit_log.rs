//! The audit log holds against failure and tampering: no footage leaves before
//! its entry has committed (playback, CLI export), the head is checkpointed to
//! the system log, a head left behind by a crash is not tampering, a log emptied
//! or rewritten is caught against a checkpoint, and admins see the start-up check.

mod common;

use common::site::*;
use common::*;

/// Makes every audit append fail (as a full or broken disk would), or stops that.
fn refuse_appends(s: &Site, on: bool) {
    let db = rusqlite::Connection::open(s.nvr.data().join("hearth.db")).expect("db");
    db.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy");
    let sql = if on {
        "CREATE TRIGGER test_refuse BEFORE INSERT ON audit \
         BEGIN SELECT RAISE(ABORT, 'no space left'); END;"
    } else {
        "DROP TRIGGER test_refuse;"
    };
    db.execute_batch(sql).expect("trigger");
}

fn os_user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn no_footage_leaves_before_its_audit_entry_commits() {
    let s = site("tls = \"off\"", 8);
    let range = recorded_range(&s, "front");
    let ann = logged_in(&s, ANN);
    let url = format!("/api/cameras/front/view.mp4?{range}");

    refuse_appends(&s, true);
    let r = ann.get(&url);
    assert_eq!(r.status, 500, "footage served without its audit entry");
    assert!(!r.body.windows(4).any(|w| w == b"ftyp"));
    // The CLI export refuses too, and leaves no file.
    let q: std::collections::HashMap<&str, &str> = range
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let out = s.nvr.dir.path().join("cli.mp4");
    let export = |s: &Site| {
        s.nvr.cli(&[
            "export",
            "--camera",
            "front",
            "--from",
            q["from"],
            "--to",
            q["to"],
            "-o",
            out.to_str().expect("path"),
        ])
    };
    let (ok, text) = export(&s);
    assert!(!ok && text.contains("audit"), "{text}");
    assert!(!out.exists(), "an unaudited export was written");
    refuse_appends(&s, false);

    // Retried once the log works: served, and audited this time.
    let r = ann.get(&url);
    assert_eq!(r.status, 200);
    let (ok, text) = export(&s);
    assert!(ok, "{text}");
    let admin = logged_in(&s, ADMIN);
    let log = admin.get("/api/audit?limit=10000").json();
    let entries = log.as_array().expect("entries");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "playback" && e["user"] == "ann" && e["camera"] == "front"),
        "the retried playback has no entry"
    );
    let me = format!("cli:{}", os_user());
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "export" && e["user"] == me.as_str() && e["camera"] == "front"),
        "the CLI export is not audited as {me}"
    );
}

/// The last checkpoint Hearth logged.
fn last_checkpoint(log: &str) -> String {
    log.lines()
        .rev()
        .find_map(|l| l.split("audit checkpoint ").nth(1))
        .expect("no checkpoint logged")
        .trim()
        .to_owned()
}

#[test]
fn the_chain_is_anchored_outside_the_data_directory() {
    let mut s = site("tls = \"off\"", 0);
    let _ = logged_in(&s, ANN);
    s.nvr.stop();
    let checkpoint = last_checkpoint(&s.nvr.log_text());
    let (ok, out) = s.nvr.cli(&["audit", "verify", "--checkpoint", &checkpoint]);
    assert!(ok, "{out}");
    let data = s.nvr.data();
    let db = rusqlite::Connection::open(data.join("hearth.db")).expect("db");

    // A crash between the commit and the head file: the head is one entry behind.
    let (id, hash): (i64, Vec<u8>) = db
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1 OFFSET 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("entry");
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(data.join("audit-head"), format!("{id} {hex}\n")).expect("head");
    let (ok, out) = s.nvr.cli(&["audit", "verify"]);
    assert!(
        ok,
        "a head behind committed entries is not tampering: {out}"
    );

    // Everything removed, head file included: only the checkpoint tells.
    db.execute_batch(
        "DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;
         DELETE FROM audit;",
    )
    .expect("tamper");
    std::fs::remove_file(data.join("audit-head")).expect("head");
    let (ok, out) = s.nvr.cli(&["audit", "verify", "--checkpoint", &checkpoint]);
    assert!(!ok && out.contains("removed from the end"), "{out}");
    let (ok, out) = s.nvr.cli(&["audit", "verify", "--checkpoint", "12:nothex"]);
    assert!(!ok && out.contains("ID:HASH"), "{out}");
}

#[test]
fn admins_see_the_start_up_verification() {
    let mut s = site("tls = \"off\"", 0);
    let admin = logged_in(&s, ADMIN);
    let page = admin.get("/audit").text();
    assert!(page.contains("chain intact"), "{page}");
    s.nvr.stop();
    let db = rusqlite::Connection::open(s.nvr.data().join("hearth.db")).expect("db");
    db.execute_batch(
        "DROP TRIGGER audit_append_only_update; UPDATE audit SET user = 'nobody' WHERE id = 1;",
    )
    .expect("tamper");
    s.nvr.start();
    assert!(wait_until(std::time::Duration::from_secs(60), || {
        s.nvr.log_text().matches("web: serving").count() == 2
    }));
    let admin = logged_in(&s, ADMIN);
    let page = admin.get("/audit").text();
    assert!(page.contains("TAMPERED: entry 1 was altered"), "{page}");
    assert!(s.nvr.log_text().contains("AUDIT LOG TAMPERED"));
    // Viewers see their own entries, not the check.
    let ann = logged_in(&s, ANN);
    assert!(!ann.get("/audit").text().contains("Verified at start-up"));
}
