//! Who may read what Hearth keeps: everything it creates is its own account's
//! alone (umask 077: directories 0700, files 0600), and at start-up a data
//! directory or index that others can read is reported with the fix.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Makes every file and directory this process creates private to its account.
pub fn private_umask() {
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Warnings for paths under `data_dir` that other accounts can read or write.
pub fn check(data_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (path, want) in [
        (data_dir.to_path_buf(), 0o700),
        (data_dir.join("hearth.db"), 0o600),
        (data_dir.join("tls-key.pem"), 0o600),
    ] {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            out.push(format!(
                "{} is open to other accounts on this machine (mode {mode:o}); it holds \
                 password hashes, second-factor secrets or footage: run `chmod {want:o} {}`",
                path.display(),
                path.display()
            ));
        }
    }
    out
}
