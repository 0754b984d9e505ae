//! Footage, plain or sealed, opened and created through one place: segment and
//! export files, and event pictures in the index. With a
//! master key configured, new files are sealed (`seal`), each with a random data
//! key whose wrapped form is in the index; reading finds a file's key by the
//! number in its header. Plain and sealed files live side by side: a file says
//! which it is. Deleting a file's index row deletes its key (the index's
//! triggers), so footage once deleted stays unreadable even where its blocks
//! survive.

use crate::seal::{self, ChunkMap, DataKey, MasterKey, SealWriter, SealedFile};
use crate::store::Store;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum FootageError {
    #[error(transparent)]
    Key(#[from] seal::SealError),
    #[error(
        "the index holds the keys of {0} sealed files, but no key file is configured \
         ([storage] encryption_key_file): without it that footage cannot be read"
    )]
    KeyMissing(u64),
    #[error(
        "the key file {path} (fingerprint {found}) is not the key this data directory's \
         footage was sealed with (fingerprint {want})"
    )]
    WrongKey {
        path: String,
        found: String,
        want: String,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Keys minted ahead, so starting a segment seldom waits for the index.
const POOL: usize = 4;
/// Chunk maps and data keys kept in memory, at most.
const CACHED: usize = 512;

pub struct Footage {
    dir: PathBuf,
    store: Arc<Store>,
    master: Option<MasterKey>,
    keys: Mutex<HashMap<u64, DataKey>>,
    maps: Mutex<HashMap<PathBuf, Arc<ChunkMap>>>,
    pool: Mutex<Vec<(u64, DataKey)>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Footage {
    /// The footage of data directory `dir`, with the master key in `key_file`
    /// when one is configured; refused when the index's sealed footage needs a
    /// key that is absent or another.
    pub fn open(
        dir: &Path,
        store: Arc<Store>,
        key_file: Option<&Path>,
    ) -> Result<Footage, FootageError> {
        let master = match key_file {
            None => {
                let n = store.data_key_count()?;
                if n > 0 {
                    return Err(FootageError::KeyMissing(n));
                }
                None
            }
            Some(path) => {
                let key = MasterKey::load(path)?;
                match store.master_fingerprint()? {
                    Some(want) if want != key.fingerprint() => {
                        return Err(FootageError::WrongKey {
                            path: path.display().to_string(),
                            found: key.fingerprint().to_owned(),
                            want,
                        });
                    }
                    Some(_) => {}
                    None => store.set_master_fingerprint(key.fingerprint())?,
                }
                Some(key)
            }
        };
        Ok(Footage {
            master,
            ..Footage::plain(dir, store)
        })
    }

    /// Plain footage only (tests, and tools that never meet sealed files).
    pub fn plain(dir: &Path, store: Arc<Store>) -> Footage {
        Footage {
            dir: dir.to_path_buf(),
            store,
            master: None,
            keys: Mutex::default(),
            maps: Mutex::default(),
            pool: Mutex::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The master key's fingerprint, when footage is sealed.
    pub fn master_fingerprint(&self) -> Option<&str> {
        self.master.as_ref().map(MasterKey::fingerprint)
    }

    /// New files are sealed.
    pub fn sealing(&self) -> bool {
        self.master.is_some()
    }

    fn master(&self) -> io::Result<&MasterKey> {
        self.master.as_ref().ok_or_else(|| {
            invalid(
                "the file is sealed, but no key file is configured ([storage] encryption_key_file)"
                    .into(),
            )
        })
    }

    /// A new data key, already durable in the index, and its number.
    fn mint(&self) -> io::Result<(u64, DataKey)> {
        let master = self.master()?;
        let key = DataKey::generate().map_err(|e| io::Error::other(e.to_string()))?;
        loop {
            let mut id = [0u8; 8];
            seal::keys::random(&mut id).map_err(|e| io::Error::other(e.to_string()))?;
            // Positive in SQLite's signed integers, never 0.
            let id = (u64::from_be_bytes(id) >> 1).max(1);
            let wrapped = master
                .wrap(id, &key)
                .map_err(|e| io::Error::other(e.to_string()))?;
            match self.store.insert_data_key(id, &wrapped) {
                Ok(true) => return Ok((id, key)),
                Ok(false) => continue,
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
        }
    }

    /// A key for a new file: from the pool, which is topped up (a failure to do
    /// so waits for the next file).
    fn take_key(&self) -> io::Result<(u64, DataKey)> {
        let got = locked(&self.pool).pop();
        let got = match got {
            Some(k) => k,
            None => self.mint()?,
        };
        while locked(&self.pool).len() < POOL {
            match self.mint() {
                Ok(k) => locked(&self.pool).push(k),
                Err(e) => {
                    tracing::warn!("cannot mint data keys ahead: {e}");
                    break;
                }
            }
        }
        locked(&self.keys).insert(got.0, got.1.clone());
        Ok(got)
    }

    /// Wraps a new, empty file for writing: sealed when a key is configured.
    /// The file must be open for reading and writing.
    pub fn writer(&self, file: File) -> io::Result<Sink> {
        if !self.sealing() {
            return Ok(Sink::Plain(file));
        }
        let (id, key) = self.take_key()?;
        let header = seal::new_header(id).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Sink::Sealed(SealWriter::create(file, header, key)?, id))
    }

    fn data_key(&self, id: u64) -> io::Result<DataKey> {
        if let Some(k) = locked(&self.keys).get(&id) {
            return Ok(k.clone());
        }
        let master = self.master()?;
        let wrapped = self
            .store
            .data_key(id)
            .map_err(|e| io::Error::other(e.to_string()))?
            .ok_or_else(|| {
                invalid(format!(
                    "its data key {id} is not in the index (the footage was deleted, or the \
                     index was rebuilt without it): it cannot be read"
                ))
            })?;
        let key = master
            .unwrap(id, &wrapped)
            .map_err(|e| invalid(e.to_string()))?;
        let mut keys = locked(&self.keys);
        if keys.len() >= CACHED {
            keys.clear();
        }
        keys.insert(id, key.clone());
        Ok(key)
    }

    /// Opens a footage file for reading its plaintext.
    pub fn open_file(&self, path: &Path) -> io::Result<Stored> {
        let file = File::open(path)?;
        let Some(header) = seal::read_header(&file)? else {
            return Ok(Stored::Plain(file));
        };
        let key = self.data_key(header.key_id)?;
        let len = file.metadata()?.len();
        let cached = locked(&self.maps).get(path).cloned();
        let map = match cached {
            Some(m) if m.disk_end() + m.trailing() == len => m,
            Some(m) if m.disk_end() <= len => Arc::new(ChunkMap::scan(&file, len, Some(&m))?),
            _ => Arc::new(ChunkMap::scan(&file, len, None)?),
        };
        let mut maps = locked(&self.maps);
        if maps.len() >= CACHED {
            maps.clear();
        }
        maps.insert(path.to_path_buf(), map.clone());
        drop(maps);
        Ok(Stored::Sealed(SealedFile::new(file, header, key, map)))
    }

    /// Opens a file for checking: every sealed chunk authenticated. A last chunk
    /// that fails on a file never finished is a torn tail and left out of the
    /// plaintext; any other that fails is named.
    pub fn open_checked(&self, path: &Path) -> io::Result<(Stored, Checked)> {
        locked(&self.maps).remove(path);
        let mut s = self.open_file(path)?;
        let mut c = Checked::default();
        if let Stored::Sealed(f) = &mut s {
            let n = f.map().chunks().len();
            let finished = f.map().finished();
            match f.first_damaged() {
                Some(i) if i + 1 == n && !finished => f.cut(i),
                Some(i) => {
                    let at = f.map().chunks()[i].disk;
                    c.damaged = Some(format!(
                        "chunk {i} of {n} (at byte {at}) fails authentication: altered or damaged"
                    ));
                }
                None => {}
            }
            c.unfinished = !f.map().finished();
        }
        Ok((s, c))
    }

    /// Ends a file's plaintext at `len` (a torn tail cut off): a plain file is
    /// truncated, a sealed one gets its final chunk there.
    pub fn cut_to(&self, path: &Path, len: u64) -> io::Result<()> {
        let (stored, _) = self.open_checked(path)?;
        locked(&self.maps).remove(path);
        match stored {
            Stored::Plain(f) => {
                drop(f);
                let f = std::fs::OpenOptions::new().write(true).open(path)?;
                f.set_len(len)?;
                f.sync_all()
            }
            Stored::Sealed(s) => {
                let rw = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)?;
                let header = seal::read_header(&rw)?
                    .ok_or_else(|| invalid("the sealed header changed".into()))?;
                let (_, key, map) = s.into_parts();
                seal::finish_at(rw, header, key, &map, len)
            }
        }
    }

    /// The data key a file is sealed with; `None` for a plain file.
    pub fn key_id_of(&self, path: &Path) -> io::Result<Option<u64>> {
        Ok(seal::read_header(&File::open(path)?)?.map(|h| h.key_id))
    }

    /// An event's pictures as the index keeps them: sealed together under a new
    /// key (its number returned) when footage is sealed, else as they are.
    pub fn seal_pictures(&self, pictures: [&[u8]; 2]) -> io::Result<([Vec<u8>; 2], Option<u64>)> {
        if !self.sealing() {
            return Ok((pictures.map(<[u8]>::to_vec), None));
        }
        let (id, key) = self.take_key()?;
        let header = seal::new_header(id).map_err(|e| io::Error::other(e.to_string()))?;
        let mut out = [Vec::new(), Vec::new()];
        for (o, p) in out.iter_mut().zip(pictures) {
            *o = seal::blob::seal(header, &key, p).map_err(|e| io::Error::other(e.to_string()))?;
        }
        Ok((out, Some(id)))
    }

    /// An event's snapshot (`thumb` false) or thumbnail, opened, when the event
    /// is the camera's.
    pub fn event_picture(&self, camera: &str, id: i64, thumb: bool) -> io::Result<Option<Vec<u8>>> {
        self.store
            .event_picture(camera, id, thumb)
            .map_err(|e| io::Error::other(e.to_string()))?
            .map(|p| self.open_picture(p))
            .transpose()
    }

    /// A picture from the index: opened when sealed.
    fn open_picture(&self, stored: Vec<u8>) -> io::Result<Vec<u8>> {
        let Some(header) = seal::Header::decode(&stored).map_err(invalid)? else {
            return Ok(stored);
        };
        let key = self.data_key(header.key_id)?;
        seal::blob::open(&stored, &key).map_err(invalid)
    }

    /// Forgets what is cached of a file (it was removed or rewritten).
    pub fn forget(&self, path: &Path) {
        locked(&self.maps).remove(path);
    }
}

/// What checking a file found.
#[derive(Debug, Default)]
pub struct Checked {
    /// A sealed chunk before the last that does not authenticate.
    pub damaged: Option<String>,
    /// A sealed file without its final chunk (cut, or never finished).
    pub unfinished: bool,
}

/// A footage file's plaintext.
pub enum Stored {
    Plain(File),
    Sealed(SealedFile),
}

impl Stored {
    /// The plaintext's length.
    pub fn plain_len(&mut self) -> io::Result<u64> {
        match self {
            Stored::Plain(f) => Ok(f.metadata()?.len()),
            Stored::Sealed(s) => Ok(s.len()),
        }
    }

    pub fn is_sealed(&self) -> bool {
        matches!(self, Stored::Sealed(_))
    }

    /// Reads exactly `buf.len()` bytes at `offset`.
    pub fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        match self {
            Stored::Plain(f) => std::os::unix::fs::FileExt::read_exact_at(f, buf, offset),
            Stored::Sealed(s) => {
                if s.read_at(offset, buf)? < buf.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "read past the end of the sealed file",
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Read for Stored {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stored::Plain(f) => f.read(buf),
            Stored::Sealed(s) => s.read(buf),
        }
    }
}

impl Seek for Stored {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Stored::Plain(f) => f.seek(to),
            Stored::Sealed(s) => s.seek(to),
        }
    }
}

/// The most buffers one `writev` takes (Linux's `IOV_MAX`).
const MAX_IOVECS: usize = 1024;

fn write_all_vectored(f: &mut File, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
    let mut bufs = &mut slices[..];
    // Leading empty parts are skipped first: a call with nothing to write answers 0,
    // which is taken below as a failed write.
    io::IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        let n = bufs.len().min(MAX_IOVECS);
        match io::Write::write_vectored(f, &bufs[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => io::IoSlice::advance_slices(&mut bufs, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A footage file being written.
pub enum Sink {
    Plain(File),
    /// With its data key's number.
    Sealed(SealWriter, u64),
}

impl Sink {
    pub fn key_id(&self) -> Option<u64> {
        match self {
            Sink::Plain(_) => None,
            Sink::Sealed(_, id) => Some(*id),
        }
    }

    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_all_parts(&[data])
    }

    /// Writes `parts` one after the other: a plain file in as few system calls as
    /// the kernel takes (one for a whole fragment, as a rule).
    pub fn write_all_parts(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        match self {
            Sink::Plain(f) => write_all_vectored(f, parts),
            Sink::Sealed(w, _) => parts.iter().try_for_each(|p| w.write_all(p)),
        }
    }

    /// Makes what was written durable (a sealed file's pending chunk sealed first).
    pub fn sync_data(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.sync_data(),
            Sink::Sealed(w, _) => w.sync_data(),
        }
    }

    /// The file is complete: a sealed one gets its final chunk. Durable.
    pub fn finish(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.sync_data(),
            Sink::Sealed(w, _) => w.finish(),
        }
    }

    /// Cuts the plaintext back to `len` after a failed write.
    pub fn cut_back(&mut self, len: u64) -> io::Result<()> {
        match self {
            Sink::Plain(f) => {
                f.set_len(len)?;
                f.seek(SeekFrom::Start(len)).map(|_| ())
            }
            Sink::Sealed(w, _) => w.cut_back(len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_past_the_kernels_limit_are_written_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let parts: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| i.to_le_bytes()[..1 + (i % 4) as usize].to_vec())
            .collect();
        let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
        let mut sink = Sink::Plain(File::create(&path).unwrap());
        sink.write_all_parts(&refs).unwrap();
        sink.write_all(b"end").unwrap();
        let mut want = parts.concat();
        want.extend_from_slice(b"end");
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }
}
