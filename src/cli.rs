//! The `user` and `audit` subcommands: account management and the audit log from
//! the command line. They work while Hearth runs (SQLite allows it).

use crate::config::Config;
use crate::security::accounts::{Accounts, Actor};
use crate::security::audit_chain::{Hash, parse_anchor};
use crate::security::audit_log::AuditLog;
use crate::store::{Role, Store};
use anyhow::bail;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

pub enum UserAction {
    Add {
        name: String,
        admin: bool,
        cameras: Vec<String>,
    },
    Edit {
        name: String,
        admin: bool,
        cameras: Vec<String>,
    },
    Passwd {
        name: String,
    },
    List,
    Remove {
        name: String,
    },
    ResetTotp {
        name: String,
    },
}

/// The operating-system account running this command, as the audit log names
/// it (`cli:NAME`): read from the process's real user id, not the environment.
pub fn os_user() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into the buffers given,
    // and pw_name points into `buf` while it lives.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut out = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out);
        if rc == 0 && !out.is_null() && !pwd.pw_name.is_null() {
            let name = std::ffi::CStr::from_ptr(pwd.pw_name).to_string_lossy();
            return format!("cli:{name}");
        }
        format!("cli:uid {uid}")
    }
}

pub fn open(cfg: &Config) -> anyhow::Result<(Arc<Store>, AuditLog)> {
    let dir = &cfg.storage.data_dir;
    let store = crate::record::data_dir::open(dir)?.store;
    let audit = AuditLog::new(store.clone(), dir);
    Ok((store, audit))
}

/// Reads a password: from stdin when it is not a terminal, else prompted twice
/// without echo.
fn read_password(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = prompt_hidden(prompt)?;
    let again = prompt_hidden("Again: ")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    use std::os::fd::AsRawFd;
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let fd = std::io::stdin().as_raw_fd();
    // SAFETY: termios is plain data; all-zero is a valid value to be overwritten.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr on our own stdin with a valid out-pointer.
    let have = unsafe { libc::tcgetattr(fd, &mut t) } == 0;
    if have {
        let mut quiet = t;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: tcsetattr on our own stdin; restored below.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let res = std::io::stdin().lock().read_line(&mut line);
    if have {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) };
    }
    eprintln!();
    res?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn user(cfg: &Config, action: UserAction) -> anyhow::Result<ExitCode> {
    let (store, audit) = open(cfg)?;
    let accounts = Accounts {
        store: &store,
        audit: &audit,
        cameras: cfg.cameras.iter().map(|c| c.name.clone()).collect(),
    };
    let by = Actor {
        user: &os_user(),
        address: None,
    };
    match action {
        UserAction::Add {
            name,
            admin,
            cameras,
        } => {
            let role = if admin { Role::Admin } else { Role::Viewer };
            let pw = read_password(&format!("Password for {name}: "))?;
            accounts.add(&by, &name, role, &pw, &cameras)?;
            println!("added {name} ({})", role.as_str());
        }
        UserAction::Edit {
            name,
            admin,
            cameras,
        } => {
            let role = if admin { Role::Admin } else { Role::Viewer };
            accounts.set_permissions(&by, &name, role, &cameras)?;
            println!("{name} is now {}; their sessions have ended", role.as_str());
        }
        UserAction::Passwd { name } => {
            let pw = read_password(&format!("New password for {name}: "))?;
            accounts.set_password(&by, &name, &pw)?;
            println!("changed the password of {name}; their sessions have ended");
        }
        UserAction::List => {
            for u in store.users()? {
                let cams = if u.role == Role::Admin {
                    "all cameras".to_owned()
                } else if u.cameras.is_empty() {
                    "no cameras".to_owned()
                } else {
                    u.cameras.join(",")
                };
                println!("{}\t{}\t{cams}", u.name, u.role.as_str());
            }
        }
        UserAction::Remove { name } => {
            accounts.remove(&by, &name)?;
            println!("removed {name}");
        }
        UserAction::ResetTotp { name } => {
            accounts.reset_second_factor(&by, &name)?;
            println!("turned off the second factor of {name}; their sessions have ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fmt_time(us: Option<i64>) -> String {
    us.and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".into())
}

/// What `hearth audit` does.
pub enum AuditAction {
    /// Check the chain, against these checkpoints (`ID:HASH`) too.
    Verify { checkpoints: Vec<String> },
    /// Print the newest `limit` entries (only `user`'s when given).
    List { user: Option<String>, limit: i64 },
}

/// Prints the verification's result; the exit code says whether it held.
fn verify_report(audit: &AuditLog, checkpoints: &[(i64, Hash)]) -> ExitCode {
    match audit.verify(checkpoints) {
        Ok(n) => {
            println!("OK: {n} audit entries, chain intact");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("TAMPERED: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn audit(cfg: &Config, what: AuditAction) -> anyhow::Result<ExitCode> {
    let (store, audit) = open(cfg)?;
    let (user, limit) = match what {
        AuditAction::List { user, limit } => (user, limit),
        AuditAction::Verify { checkpoints } => {
            let anchors = checkpoints
                .iter()
                .map(|c| {
                    parse_anchor(c).ok_or_else(|| {
                        anyhow::anyhow!(
                            "--checkpoint {c:?} is not of the form ID:HASH (64 hex digits)"
                        )
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            return Ok(verify_report(&audit, &anchors));
        }
    };
    for e in store.audit_entries(user.as_deref(), limit)? {
        let r = &e.record;
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}..{}\t{}",
            e.id,
            fmt_time(Some(r.time_us)),
            r.user.as_deref().unwrap_or("-"),
            r.address.as_deref().unwrap_or("-"),
            r.action,
            r.camera.as_deref().unwrap_or("-"),
            fmt_time(r.from_us),
            fmt_time(r.to_us),
            r.detail.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
