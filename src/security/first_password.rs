//! The first admin's password: made when there are no users, handed over in a
//! file only Hearth's own account can read (never on the console, which is the
//! journal under systemd), and the file removed once that password no longer
//! works (the admin changed it). Blocking.

use super::accounts::{AccountError, Accounts};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub const FILE: &str = "initial-admin-password";

/// Creates the first admin when there are no users. `Some(path)` while the file
/// holding its password is still there and good.
pub fn settle(data_dir: &Path, accounts: &Accounts<'_>) -> Result<Option<PathBuf>, AccountError> {
    let path = data_dir.join(FILE);
    if let Some(pw) = accounts.ensure_admin()? {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        writeln!(f, "{pw}")
            .and_then(|_| f.sync_all())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        return Ok(Some(path));
    }
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let still_good = accounts
        .store
        .user_by_name("admin")?
        .is_some_and(|u| super::password::verify(text.trim(), &u.password_hash));
    if still_good {
        return Ok(Some(path));
    }
    let _ = std::fs::remove_file(&path);
    Ok(None)
}
