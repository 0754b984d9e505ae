//! The Debian package for real: `scripts/build-deb.sh` builds it around this
//! binary; its unit passes `systemd-analyze verify` and scores an exposure of
//! 2.5 or lower in `systemd-analyze security`; `dpkg -i` installs it on this
//! machine (a hearth system user, /var/lib/hearth at 0700 made with `hearth
//! init`, the config a conffile that `hearth check` passes); an upgrade keeps
//! the config as edited and the data; a purge removes the user and the config
//! and keeps the footage. Needs root and dpkg (it says why when skipped), and
//! leaves the machine as it found it.

use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("command");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sh(line: &str) -> (bool, String) {
    run(Command::new("sh").args(["-c", line]))
}

#[test]
fn the_package_installs_a_hardened_service_upgrades_and_purges() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !sh("[ \"$(id -u)\" = 0 ] && command -v dpkg systemd-analyze").0 {
        println!("skipped: installing a package needs root, dpkg and systemd-analyze");
        return;
    }
    if sh("dpkg-query -W -f='${Status}' hearth 2>/dev/null | grep -q 'ok installed'").0 {
        println!("skipped: a hearth package is already installed on this machine");
        return;
    }
    assert!(
        !Path::new("/var/lib/hearth").exists(),
        "/var/lib/hearth exists: this test would not leave the machine as it found it"
    );
    let (ok, out) =
        run(Command::new(root.join("scripts/build-deb.sh"))
            .env("BIN", env!("CARGO_BIN_EXE_hearth")));
    assert!(ok, "build-deb.sh: {out}");
    let deb = out.lines().last().unwrap_or_default().trim().to_owned();
    let deb = root.join(&deb);

    // What is inside.
    let (_, info) = run(Command::new("dpkg-deb").arg("-I").arg(&deb));
    assert!(info.contains("Depends: libavcodec59"), "{info}");
    let (_, files) = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for f in [
        "./usr/bin/hearth",
        "./etc/hearth/hearth.toml",
        "./lib/systemd/system/hearth.service",
    ] {
        assert!(files.contains(f), "{f} missing: {files}");
    }
    let (_, conffiles) = sh(&format!(
        "dpkg-deb --ctrl-tarfile {} | tar -xO ./conffiles",
        deb.display()
    ));
    assert_eq!(conffiles.trim(), "/etc/hearth/hearth.toml");
    let unit = root.join("packaging/debian/hearth.service");
    let (_, security) = run(Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&unit));
    let exposure: f64 = security
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for hearth.service: ")
                .nth(1)
        })
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level: {security}"));
    println!("systemd-analyze security --offline=true: exposure {exposure}");
    assert!(exposure <= 2.5, "{security}");

    // Installed: the user, the data directory made once, a config that checks.
    let cleanup = || {
        let _ = sh("dpkg --purge hearth >/dev/null 2>&1; rm -rf /var/lib/hearth");
    };
    let (ok, out) = run(Command::new("dpkg").arg("-i").arg(&deb));
    if !ok {
        cleanup();
        panic!("dpkg -i: {out}");
    }
    let checks = || -> Result<(), String> {
        let must = |c: bool, what: &str| if c { Ok(()) } else { Err(what.to_owned()) };
        must(sh("getent passwd hearth").0, "no hearth user")?;
        let (_, mode) = sh("stat -c '%a %U' /var/lib/hearth");
        must(
            mode.trim() == "700 hearth",
            &format!("/var/lib/hearth is {mode}"),
        )?;
        must(
            Path::new("/var/lib/hearth/hearth.db").exists(),
            "no index made",
        )?;
        let (ok, out) = sh("hearth check --config /etc/hearth/hearth.toml");
        must(ok, &format!("hearth check: {out}"))?;
        let (ok, out) = sh("systemd-analyze verify /lib/systemd/system/hearth.service");
        must(ok, &format!("systemd-analyze verify: {out}"))?;
        let (_, mode) = sh("stat -c '%a %U %G' /etc/hearth/hearth.toml");
        must(
            mode.trim() == "640 root hearth",
            &format!("the config is {mode}"),
        )?;
        // An upgrade keeps the owner's edit of the config and the data.
        sh("echo '# edited by the owner' >> /etc/hearth/hearth.toml");
        let (_, before) = sh("stat -c %i /var/lib/hearth/hearth.db");
        let (ok, out) = sh(&format!("dpkg -i --force-confold {}", deb.display()));
        must(ok, &format!("upgrade: {out}"))?;
        must(
            sh("grep -q 'edited by the owner' /etc/hearth/hearth.toml").0,
            "the upgrade lost the config's edit",
        )?;
        let (_, after) = sh("stat -c %i /var/lib/hearth/hearth.db");
        must(before == after, "the upgrade replaced the index")?;
        // A purge takes the user and the config, and keeps the footage.
        let (ok, out) = sh("dpkg --purge hearth");
        must(ok, &format!("purge: {out}"))?;
        must(
            out.contains("were kept"),
            &format!("purge said nothing of the data: {out}"),
        )?;
        must(!sh("getent passwd hearth").0, "the purge left the user")?;
        must(
            !Path::new("/etc/hearth").exists(),
            "the purge left the config",
        )?;
        must(
            Path::new("/var/lib/hearth/hearth.db").exists(),
            "the purge took the footage",
        )?;
        Ok(())
    };
    let result = checks();
    cleanup();
    if let Err(e) = result {
        panic!("{e}");
    }
}
