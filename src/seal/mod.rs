//! Encryption at rest: sealed files (chunked, seekable, authenticated) and the
//! keys behind them. Imports nothing of Hearth; `record::footage` ties it to the
//! index, where the wrapped data keys live.

pub mod blob;
pub mod format;
pub mod keys;
pub mod reader;
pub mod writer;

pub use format::Header;
pub use keys::{DataKey, MasterKey};
pub use reader::{ChunkMap, SealedFile};
pub use writer::{SealWriter, finish_at};

use std::fs::File;
use std::os::unix::fs::FileExt;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("{0}")]
    Crypto(String),
}

/// The sealed header at the start of `file`; `None` for a plain file.
pub fn read_header(file: &File) -> std::io::Result<Option<Header>> {
    let mut b = [0u8; format::HEADER_LEN];
    let mut n = 0;
    while n < b.len() {
        match file.read_at(&mut b[n..], n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    Header::decode(&b[..n]).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// A fresh header for a file sealed with data key `key_id`.
pub fn new_header(key_id: u64) -> Result<Header, SealError> {
    let mut salt = [0u8; 16];
    keys::random(&mut salt)?;
    Ok(Header { key_id, salt })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom};
    use std::sync::Arc;

    fn rw(path: &std::path::Path) -> File {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .unwrap()
    }

    fn plaintext(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251).to_le_bytes()[0]).collect()
    }

    /// Writes `data` sealed, syncing after each of `pieces`.
    fn write(path: &std::path::Path, key: &DataKey, pieces: &[&[u8]], finish: bool) -> Header {
        let h = new_header(9).unwrap();
        let mut w = SealWriter::create(rw(path), h, key.clone()).unwrap();
        for p in pieces {
            w.write_all(p).unwrap();
            w.sync_data().unwrap();
        }
        if finish {
            w.finish().unwrap();
        }
        h
    }

    fn open(path: &std::path::Path, key: &DataKey) -> SealedFile {
        let f = File::open(path).unwrap();
        let h = read_header(&f).unwrap().expect("sealed");
        let len = f.metadata().unwrap().len();
        let map = ChunkMap::scan(&f, len, None).unwrap();
        SealedFile::new(f, h, key.clone(), Arc::new(map))
    }

    #[test]
    fn random_reads_return_the_plaintext_and_the_disk_shows_none_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        let key = DataKey::generate().unwrap();
        let data = plaintext(300_000);
        let (a, b) = data.split_at(100_001);
        let (b, c) = b.split_at(70_000);
        write(&p, &key, &[a, b, c], true);
        let raw = std::fs::read(&p).unwrap();
        assert!(!raw.windows(64).any(|w| w == &data[1000..1064]));
        let mut s = open(&p, &key);
        assert!(s.map().finished());
        assert_eq!(s.len(), data.len() as u64);
        assert_eq!(s.first_damaged(), None);
        let mut seed = 12345u64;
        for _ in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let from = (seed >> 33) as usize % data.len();
            let n = ((seed >> 13) as usize % 150_000).min(data.len() - from);
            let mut buf = vec![0u8; n];
            s.seek(SeekFrom::Start(from as u64)).unwrap();
            s.read_exact(&mut buf).unwrap();
            assert_eq!(buf, &data[from..from + n]);
        }
        let mut all = Vec::new();
        s.seek(SeekFrom::Start(0)).unwrap();
        s.read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
    }

    #[test]
    fn a_flipped_byte_fails_its_chunk_only_and_a_wrong_key_fails_all() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        let key = DataKey::generate().unwrap();
        let data = plaintext(200_000);
        write(&p, &key, &[&data], true);
        let mut raw = std::fs::read(&p).unwrap();
        let second = format::HEADER_LEN + format::CHUNK_OVERHEAD + format::CHUNK + 100;
        raw[second] ^= 0x20;
        std::fs::write(&p, &raw).unwrap();
        let mut s = open(&p, &key);
        assert_eq!(s.first_damaged(), Some(1));
        let mut buf = vec![0u8; 100];
        assert_eq!(s.read_at(10, &mut buf).unwrap(), 100);
        assert_eq!(buf, &data[10..110]);
        let e = s.read_at(format::CHUNK as u64 + 5, &mut buf).unwrap_err();
        assert!(e.to_string().contains("chunk 1"), "{e}");
        let mut other = open(&p, &DataKey::generate().unwrap());
        assert_eq!(other.first_damaged(), Some(0));
    }

    #[test]
    fn chunks_cannot_be_swapped_or_dropped_unnoticed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        let key = DataKey::generate().unwrap();
        let a = plaintext(1000);
        let b: Vec<u8> = a.iter().map(|x| x ^ 0x55).collect();
        write(&p, &key, &[&a, &b, &a], true);
        let raw = std::fs::read(&p).unwrap();
        let h = format::HEADER_LEN;
        let c = format::CHUNK_OVERHEAD + 1000;
        // Swap the first two chunks (same length).
        let mut swapped = raw.clone();
        swapped[h..h + c].copy_from_slice(&raw[h + c..h + 2 * c]);
        swapped[h + c..h + 2 * c].copy_from_slice(&raw[h..h + c]);
        std::fs::write(&p, &swapped).unwrap();
        assert_eq!(open(&p, &key).first_damaged(), Some(0));
        // Drop the final chunk: the file is seen to be cut.
        std::fs::write(&p, &raw[..h + 2 * c]).unwrap();
        let s = open(&p, &key);
        assert!(!s.map().finished());
        assert_eq!(s.len(), 2000);
    }

    #[test]
    fn a_torn_tail_is_finished_at_a_cut_keeping_what_was_synced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        let key = DataKey::generate().unwrap();
        let data = plaintext(150_000);
        let h = write(&p, &key, &[&data[..90_000], &data[90_000..]], false);
        // A torn half-written chunk after the synced data.
        let f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(&mut &f, &[0, 0, 0x10, 0, 1, 2, 3]).unwrap();
        let s = open(&p, &key);
        assert!(!s.map().finished());
        assert_eq!(s.map().trailing(), 7);
        assert_eq!(s.len(), 150_000);
        let (file, k, map) = s.into_parts();
        drop(file);
        let rw = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        finish_at(rw, h, k, &map, 120_000).unwrap();
        let mut s = open(&p, &key);
        assert!(s.map().finished());
        assert_eq!(s.map().trailing(), 0);
        assert_eq!(s.first_damaged(), None);
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        assert_eq!(all, &data[..120_000]);
    }

    #[test]
    fn a_failed_append_is_cut_back_into_chunks_already_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        let key = DataKey::generate().unwrap();
        let data = plaintext(200_000);
        let h = new_header(1).unwrap();
        let mut w = SealWriter::create(rw(&p), h, key.clone()).unwrap();
        w.write_all(&data[..1000]).unwrap();
        w.sync_data().unwrap();
        w.write_all(&plaintext(150_000)).unwrap();
        w.cut_back(1000).unwrap();
        assert_eq!(w.plain_len(), 1000);
        w.write_all(&data[1000..]).unwrap();
        w.finish().unwrap();
        let mut all = Vec::new();
        open(&p, &key).read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
        // Cut back into the middle of a full chunk written since the last sync.
        let mut w = SealWriter::create(rw(&p), h, key.clone()).unwrap();
        w.write_all(&data).unwrap();
        w.cut_back(70_000).unwrap();
        w.finish().unwrap();
        let mut all = Vec::new();
        open(&p, &key).read_to_end(&mut all).unwrap();
        assert_eq!(all, &data[..70_000]);
    }
}
