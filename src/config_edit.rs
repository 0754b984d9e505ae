//! Changing the config file from the browser: format-preserving edits of its
//! camera tables (comments, order and layout survive), checked by the same
//! parser as `hearth check`, refused when the file changed since it was read,
//! and written atomically with the previous version kept as a numbered backup.
//! Credentials go to a private password file beside the config, never into it.

use crate::config::{Config, ConfigError};
use sha2::Digest;
use std::io::Write;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Table};

/// Backups kept beside the config (`hearth.toml.~N~`), newest numbers last.
pub const BACKUPS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: cannot read the config file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} changed since it was read (edited by hand or from another page); nothing was \
         saved: load the page again to see the file as it is now"
    )]
    Changed { path: String },
    #[error("{path}: the file is not valid TOML any more ({message}); fix it by hand first")]
    Syntax { path: String, message: String },
    #[error("not saved: {0}")]
    Invalid(ConfigError),
    #[error("`cameras` in the config is not a list of [[cameras]] tables; fix it by hand first")]
    NotCameraTables,
    #[error("no camera named {0:?} in the config")]
    NoCamera(String),
    #[error("a camera named {0:?} is in the config already")]
    Exists(String),
    #[error(
        "cannot write {path}: {source} (Hearth needs write access to the config's directory to change it)"
    )]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Which text of the file an edit was made against: a digest, so a page can
/// hand it back with its change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

impl Version {
    pub fn of(text: &str) -> Version {
        let d = sha2::Sha256::digest(text.as_bytes());
        Version(d[..12].iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// A change to one key of a camera's table: `motion.sensitivity` names a key
/// of its `[cameras.motion]` table; `None` removes the key.
pub type Field = (String, Option<Item>);

/// The file as read, with its version.
pub fn read(path: &Path) -> Result<(String, Version), EditError> {
    let text = std::fs::read_to_string(path).map_err(|source| EditError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let v = Version::of(&text);
    Ok((text, v))
}

/// The camera tables of a document (`[[cameras]]`), made when absent.
fn cameras(doc: &mut DocumentMut) -> Result<&mut toml_edit::ArrayOfTables, EditError> {
    doc.entry("cameras")
        .or_insert(Item::ArrayOfTables(Default::default()))
        .as_array_of_tables_mut()
        .ok_or(EditError::NotCameraTables)
}

fn position(doc: &mut DocumentMut, name: &str) -> Result<Option<usize>, EditError> {
    Ok(cameras(doc)?
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name)))
}

/// Sets or removes keys of a camera's table (pure); a dotted key goes into the
/// sub-table named by its first part, made when absent.
fn set_fields(table: &mut Table, fields: &[Field]) {
    for (key, item) in fields {
        let (sub, leaf) = match key.split_once('.') {
            Some((sub, leaf)) => (Some(sub), leaf),
            None => (None, key.as_str()),
        };
        let target: &mut dyn toml_edit::TableLike = match sub {
            None => table,
            Some(sub) => {
                if item.is_none() && !table.contains_key(sub) {
                    continue;
                }
                let entry = table.entry(sub).or_insert(Item::Table(Table::new()));
                if entry.as_table_like().is_none() {
                    *entry = Item::Table(Table::new());
                }
                match entry.as_table_like_mut() {
                    Some(t) => t,
                    None => continue,
                }
            }
        };
        match item {
            Some(i) => {
                // A new value keeps the old one's comments around it.
                match target.get_mut(leaf) {
                    Some(old) if old.is_value() && i.is_value() => {
                        let decor = old.as_value().map(|v| v.decor().clone());
                        *old = i.clone();
                        if let (Some(d), Some(v)) = (decor, old.as_value_mut()) {
                            *v.decor_mut() = d;
                        }
                    }
                    _ => {
                        target.insert(leaf, i.clone());
                    }
                }
            }
            None => {
                target.remove(leaf);
            }
        }
    }
    // A sub-table left empty goes.
    let empty: Vec<String> = table
        .iter()
        .filter(|(_, v)| v.as_table_like().is_some_and(|t| t.is_empty()))
        .map(|(k, _)| k.to_owned())
        .collect();
    for k in empty {
        table.remove(&k);
    }
}

/// Adds a camera at the end of the file (pure).
pub fn add_camera(doc: &mut DocumentMut, name: &str, fields: &[Field]) -> Result<(), EditError> {
    if position(doc, name)?.is_some() {
        return Err(EditError::Exists(name.to_owned()));
    }
    let mut t = Table::new();
    t.insert("name", toml_edit::value(name));
    set_fields(&mut t, fields);
    cameras(doc)?.push(t);
    Ok(())
}

/// Changes keys of a camera's table (pure).
pub fn edit_camera(doc: &mut DocumentMut, name: &str, fields: &[Field]) -> Result<(), EditError> {
    let i = position(doc, name)?.ok_or_else(|| EditError::NoCamera(name.to_owned()))?;
    match cameras(doc)?.get_mut(i) {
        Some(t) => set_fields(t, fields),
        None => return Err(EditError::NoCamera(name.to_owned())),
    }
    Ok(())
}

/// Removes a camera's table and the comments inside it (pure).
pub fn remove_camera(doc: &mut DocumentMut, name: &str) -> Result<(), EditError> {
    let i = position(doc, name)?.ok_or_else(|| EditError::NoCamera(name.to_owned()))?;
    cameras(doc)?.remove(i);
    Ok(())
}

/// A saved change: the config before and after, and the file's new version.
#[derive(Debug)]
pub struct Saved {
    pub before: Config,
    pub after: Config,
    pub text: String,
    pub version: Version,
    pub backup: PathBuf,
}

/// Applies `edit` to the file at `path` if it is still at `expected` (it gets
/// the config as the file has it now), checks
/// the result as `hearth check` would, keeps the old text as a numbered backup
/// and writes the new one atomically (blocking).
pub fn save(
    path: &Path,
    expected: &Version,
    edit: impl FnOnce(&mut DocumentMut, &Config) -> Result<(), EditError>,
) -> Result<Saved, EditError> {
    let shown = || path.display().to_string();
    let (text, version) = read(path)?;
    if version != *expected {
        return Err(EditError::Changed { path: shown() });
    }
    let before = Config::parse(&text, path).map_err(EditError::Invalid)?;
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| EditError::Syntax {
                path: shown(),
                message: e.message().to_owned(),
            })?;
    edit(&mut doc, &before)?;
    let new_text = doc.to_string();
    let after = Config::parse(&new_text, path).map_err(EditError::Invalid)?;
    let write_err = |p: &Path| {
        let p = p.display().to_string();
        move |source| EditError::Write { path: p, source }
    };
    let backup = backup(path, &text)?;
    let mode = std::fs::metadata(path)
        .map_err(write_err(path))?
        .permissions();
    write_atomically(path, new_text.as_bytes(), mode)?;
    Ok(Saved {
        before,
        after,
        version: Version::of(&new_text),
        text: new_text,
        backup,
    })
}

fn numbered(path: &Path, n: u64) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".~{n}~"));
    path.with_file_name(name)
}

/// The numbers of the backups beside `path`, ascending.
fn backups(path: &Path) -> Vec<u64> {
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut found: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let n = name.to_str()?.strip_prefix(base)?.strip_prefix(".~")?;
            n.strip_suffix('~')?.parse().ok()
        })
        .collect();
    found.sort_unstable();
    found
}

/// Keeps `text` as the next numbered backup and drops the oldest beyond [`BACKUPS`].
fn backup(path: &Path, text: &str) -> Result<PathBuf, EditError> {
    let existing = backups(path);
    let next = numbered(path, existing.last().map_or(1, |n| n + 1));
    write_new(&next, text.as_bytes(), 0o600)?;
    let keep_from = (existing.len() + 1).saturating_sub(BACKUPS);
    for n in &existing[..keep_from.min(existing.len())] {
        let _ = std::fs::remove_file(numbered(path, *n));
    }
    Ok(next)
}

/// Writes a file that must not exist yet, with `mode`, synced.
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), EditError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| EditError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    f.write_all(data).map_err(err)?;
    f.sync_all().map_err(err)
}

/// Replaces `path` with `data`: a synced temporary file renamed over it, then
/// the directory synced, so a crash leaves the old file or the new, whole.
fn write_atomically(path: &Path, data: &[u8], mode: std::fs::Permissions) -> Result<(), EditError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |p: &Path| {
        let p = p.display().to_string();
        move |source| EditError::Write { path: p, source }
    };
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".saving");
    let tmp = path.with_file_name(name);
    let _ = std::fs::remove_file(&tmp);
    write_new(&tmp, data, mode.mode() & 0o777)?;
    std::fs::rename(&tmp, path).map_err(err(path))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err(dir))
}

/// Writes a camera's password into `<camera>.password` beside the config
/// (0600, atomically); returns the name to put in `password_file`.
pub fn write_password(config: &Path, camera: &str, password: &str) -> Result<String, EditError> {
    let name = format!("{camera}.password");
    let path = config.with_file_name(&name);
    write_atomically(
        &path,
        format!("{password}\n").as_bytes(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# Hearth at home\n[storage]\ndata_dir = \"data\" # the big disk\n\n\
        # the front door\n[[cameras]]\nname = \"front\"\nurl = \"rtsp://10.0.0.1/main\"  # Reolink\n\n\
        [cameras.motion]\nsensitivity = 0.5\n\n\
        # the yard\n[[cameras]]\nname = \"yard\"\nurl = \"rtsp://10.0.0.2/main\"\n";

    fn doc() -> DocumentMut {
        FILE.parse().expect("toml")
    }

    fn field(key: &str, v: impl Into<toml_edit::Value>) -> Field {
        (key.to_owned(), Some(Item::Value(v.into())))
    }

    #[test]
    fn an_edit_keeps_comments_order_and_layout() {
        let mut d = doc();
        edit_camera(
            &mut d,
            "front",
            &[
                field("url", "rtsp://10.0.0.1/h264"),
                field("motion.sensitivity", 0.8),
            ],
        )
        .expect("edit");
        let text = d.to_string();
        let want = FILE
            .replace("rtsp://10.0.0.1/main", "rtsp://10.0.0.1/h264")
            .replace("sensitivity = 0.5", "sensitivity = 0.8");
        assert_eq!(text, want);
    }

    #[test]
    fn a_new_camera_goes_at_the_end_and_a_removed_one_takes_only_its_table() {
        let mut d = doc();
        add_camera(
            &mut d,
            "garden",
            &[
                field("url", "rtsp://10.0.0.3/main"),
                field("motion.enabled", false),
            ],
        )
        .expect("add");
        let text = d.to_string();
        assert!(text.starts_with(FILE), "{text}");
        assert!(
            text.ends_with("name = \"garden\"\nurl = \"rtsp://10.0.0.3/main\"\n\n[cameras.motion]\nenabled = false\n"),
            "{text}"
        );
        let cfg = Config::parse(&text, Path::new("/h.toml")).expect("valid");
        assert!(!cfg.camera("garden").expect("garden").motion.enabled);
        assert!(matches!(
            add_camera(&mut d, "yard", &[]),
            Err(EditError::Exists(_))
        ));
        remove_camera(&mut d, "front").expect("remove");
        let text = d.to_string();
        assert!(
            !text.contains("front") && !text.contains("sensitivity"),
            "{text}"
        );
        assert!(text.contains("# Hearth at home") && text.contains("# the yard"));
    }

    #[test]
    fn removing_the_last_key_of_a_sub_table_removes_the_table() {
        let mut d = doc();
        edit_camera(&mut d, "front", &[("motion.sensitivity".into(), None)]).expect("edit");
        assert!(!d.to_string().contains("[cameras.motion]"));
        edit_camera(&mut d, "yard", &[("motion.fps".into(), None)]).expect("edit");
        assert!(!d.to_string().contains("[cameras.motion]"));
    }

    #[test]
    fn a_save_against_an_old_version_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hearth.toml");
        std::fs::write(&path, FILE).expect("write");
        let (_, v) = read(&path).expect("read");
        // Someone edits by hand meanwhile.
        let by_hand = FILE.replace("# the yard", "# the back yard");
        std::fs::write(&path, &by_hand).expect("write");
        let r = save(&path, &v, |d, _| remove_camera(d, "yard"));
        assert!(matches!(r, Err(EditError::Changed { .. })), "{r:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), by_hand);
        assert!(backups(&path).is_empty());
    }

    #[test]
    fn a_save_that_would_break_the_config_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hearth.toml");
        std::fs::write(&path, FILE).expect("write");
        let (_, v) = read(&path).expect("read");
        let r = save(&path, &v, |d, _| {
            edit_camera(d, "yard", &[field("url", "http://10.0.0.2/")])
        });
        let Err(EditError::Invalid(e)) = r else {
            panic!("{r:?}")
        };
        assert!(e.to_string().contains("key `url`"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), FILE);
    }

    #[test]
    fn saves_keep_numbered_backups_and_the_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hearth.toml");
        std::fs::write(&path, FILE).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let mut texts = vec![FILE.to_owned()];
        for i in 0..12 {
            let (_, v) = read(&path).expect("read");
            let saved = save(&path, &v, |d, _| {
                edit_camera(d, "yard", &[field("url", format!("rtsp://10.0.0.2/{i}"))])
            })
            .expect("save");
            assert_eq!(saved.version, read(&path).expect("read").1);
            assert_eq!(
                saved.after.camera("yard").expect("yard").url.path(),
                format!("/{i}")
            );
            texts.push(saved.text);
        }
        assert_eq!(backups(&path), (3..=12).collect::<Vec<_>>());
        // Backup N holds the text before save N.
        let b12 = std::fs::read_to_string(numbered(&path, 12)).expect("backup");
        assert_eq!(b12, texts[11]);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let mode = std::fs::metadata(numbered(&path, 12))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_password_goes_to_a_private_file_the_config_can_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hearth.toml");
        std::fs::write(&path, FILE).expect("write");
        let name = write_password(&path, "yard", "pa55 word").expect("password");
        let file = dir.path().join(&name);
        assert_eq!(
            std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        let (_, v) = read(&path).expect("read");
        let saved = save(&path, &v, |d, _| {
            edit_camera(
                d,
                "yard",
                &[
                    field("username", "admin"),
                    field("password_file", name.as_str()),
                ],
            )
        })
        .expect("save");
        assert!(!saved.text.contains("pa55"));
        let yard = saved.after.camera("yard").expect("yard");
        assert_eq!(
            yard.password.as_ref().map(|p| p.expose()),
            Some("pa55 word")
        );
    }
}
