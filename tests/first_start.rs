//! A first start leaves no secret where others can read it: the data directory
//! is 0700 and the index 0600, the first admin's password goes to a 0600 file
//! (never to the log, which is the journal under systemd), and the file goes
//! once the password is changed; a data directory opened to others is reported.

mod common;

use common::http::Client;
use common::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn the_first_password_is_handed_over_privately() {
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!("min_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\"\n"),
        &[],
    );
    nvr.start();
    let url = nvr.web_url();
    let data = nvr.data();
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("hearth.db")), 0o600, "index");
    let file = data.join("initial-admin-password");
    assert!(
        wait_until(std::time::Duration::from_secs(10), || file.exists()),
        "no password file"
    );
    assert_eq!(mode(&file), 0o600, "password file");
    let pw = std::fs::read_to_string(&file)
        .expect("read")
        .trim()
        .to_owned();
    let log = nvr.log_text();
    assert!(log.contains(&file.display().to_string()), "{log}");
    assert!(!log.contains(&pw), "the password is in the log");

    let mut admin = Client::new(&url);
    assert_eq!(admin.login("admin", &pw).status, 200);
    let r = admin.post(
        "/api/account/password",
        serde_json::json!({"current": pw, "new": "a-new-admin-password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    nvr.stop();
    // Opened to others meanwhile: reported at the next start, with the fix.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    nvr.start();
    assert!(wait_until(std::time::Duration::from_secs(60), || {
        nvr.log_text().matches("web: serving").count() == 2
    }));
    assert!(!file.exists(), "the password file outlived the password");
    let log = nvr.log_text();
    assert!(
        log.contains("open to other accounts") && log.contains("chmod 700"),
        "{log}"
    );
}
