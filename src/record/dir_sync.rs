//! Making names durable. A file's data can be synced and still vanish in a power
//! cut if the directory entry naming it was never written out: so after a file or
//! directory is created, renamed or removed, its parent directory is fsynced.

use std::io;
use std::path::Path;

/// Fsyncs the directory `dir` (its entries: names created, renamed or removed).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Fsyncs the directory holding `path`, after `path` was created, renamed into
/// place or removed.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// Creates `dir` and any missing directories above it up to (not including)
/// `root`, which must exist; each new directory's parent is fsynced, so the whole
/// chain of names survives a power cut.
pub fn create_dirs(root: &Path, dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let Ok(rel) = dir.strip_prefix(root) else {
        return Err(io::Error::other(format!(
            "{} is not under {}",
            dir.display(),
            root.display()
        )));
    };
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::create_dir(&at) {
            Ok(()) => sync_parent(&at)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && at.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_missing_chain_below_an_existing_root() {
        let t = tempfile::tempdir().expect("tempdir");
        let d = t.path().join("a/b/c");
        create_dirs(t.path(), &d).expect("create");
        assert!(d.is_dir());
        create_dirs(t.path(), &d).expect("again");
        assert!(create_dirs(&t.path().join("x"), &t.path().join("y/z")).is_err());
        std::fs::write(t.path().join("a/file"), b"").expect("file");
        assert!(create_dirs(t.path(), &t.path().join("a/file/d")).is_err());
    }
}
