//! Reading a sealed file: its chunk map from the length fields (no decryption),
//! then only the chunks a read needs, each authenticated before its bytes are
//! used. A chunk that does not authenticate is an error naming it; `verify`
//! checks every chunk and the final one.

use super::format::{CHUNK_OVERHEAD, HEADER_LEN, Header, LenField, NONCE_LEN, chunk_aad};
use super::keys::{DataKey, open};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub disk: u64,
    pub plain: u64,
    pub len: usize,
    pub last: bool,
}

/// Where a sealed file's chunks are, read from their length fields.
#[derive(Clone, Debug, Default)]
pub struct ChunkMap {
    chunks: Vec<Chunk>,
    /// Bytes after the last whole chunk: a torn tail, or anything after the final one.
    trailing: u64,
    disk_end: u64,
}

impl ChunkMap {
    /// Maps the chunks of a file `file_len` bytes long; with `from`, goes on from
    /// an earlier map of the same file (which has grown since).
    pub fn scan(file: &File, file_len: u64, from: Option<&ChunkMap>) -> io::Result<ChunkMap> {
        let mut m = from.cloned().unwrap_or(ChunkMap {
            chunks: Vec::new(),
            trailing: 0,
            disk_end: HEADER_LEN as u64,
        });
        if m.finished() || file_len < m.disk_end {
            m.trailing = file_len.saturating_sub(m.disk_end);
            return Ok(m);
        }
        let mut at = m.disk_end;
        let mut plain = m.plain_len();
        loop {
            let mut lenb = [0u8; 4];
            if at + CHUNK_OVERHEAD as u64 > file_len || file.read_exact_at(&mut lenb, at).is_err() {
                break;
            }
            let Some(f) = LenField::decode(lenb) else {
                break;
            };
            let end = at + (CHUNK_OVERHEAD + f.len) as u64;
            if end > file_len {
                break;
            }
            m.chunks.push(Chunk {
                disk: at,
                plain,
                len: f.len,
                last: f.last,
            });
            at = end;
            plain += f.len as u64;
            if f.last {
                break;
            }
        }
        m.disk_end = at;
        m.trailing = file_len - at;
        Ok(m)
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    pub fn plain_len(&self) -> u64 {
        self.chunks.last().map_or(0, |c| c.plain + c.len as u64)
    }

    /// The file ends with its final chunk.
    pub fn finished(&self) -> bool {
        self.chunks.last().is_some_and(|c| c.last)
    }

    /// Bytes after the last whole chunk.
    pub fn trailing(&self) -> u64 {
        self.trailing
    }

    pub fn disk_end(&self) -> u64 {
        self.disk_end
    }

    /// The map without chunk `i` and those after it (a torn last chunk).
    pub fn cut(&self, i: usize) -> ChunkMap {
        let chunks = self.chunks[..i.min(self.chunks.len())].to_vec();
        let disk_end = self.chunks.get(i).map_or(self.disk_end, |c| c.disk);
        ChunkMap {
            trailing: self.disk_end + self.trailing - disk_end,
            chunks,
            disk_end,
        }
    }

    fn find(&self, plain: u64) -> Option<usize> {
        let i = self
            .chunks
            .partition_point(|c| c.plain + c.len as u64 <= plain);
        (i < self.chunks.len()).then_some(i)
    }
}

fn damaged(index: u64, disk: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "chunk {index} (at byte {disk}) fails authentication: the file was altered or damaged"
        ),
    )
}

/// Reads and authenticates chunk `index`; its plaintext.
pub(super) fn open_chunk(
    file: &File,
    header: &[u8; HEADER_LEN],
    key: &DataKey,
    index: u64,
    c: &Chunk,
) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; CHUNK_OVERHEAD + c.len];
    file.read_exact_at(&mut buf, c.disk)?;
    open_sealed_chunk(buf, header, key, index, c)
}

/// Authenticates chunk `index` as read (`buf`: its length field, nonce,
/// ciphertext and tag); its plaintext.
pub(super) fn open_sealed_chunk(
    mut buf: Vec<u8>,
    header: &[u8; HEADER_LEN],
    key: &DataKey,
    index: u64,
    c: &Chunk,
) -> io::Result<Vec<u8>> {
    let mut lenb = [0u8; 4];
    lenb.copy_from_slice(&buf[..4]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&buf[4..4 + NONCE_LEN]);
    let aad = chunk_aad(header, index, c.plain, lenb);
    let body = &mut buf[4 + NONCE_LEN..];
    if !open(&key.aead, nonce, &aad, body) {
        return Err(damaged(index, c.disk));
    }
    buf.drain(..4 + NONCE_LEN);
    buf.truncate(c.len);
    Ok(buf)
}

/// A sealed file's plaintext: random reads decrypt only the chunks they touch.
pub struct SealedFile {
    file: File,
    header: [u8; HEADER_LEN],
    key: DataKey,
    map: Arc<ChunkMap>,
    /// The last chunk opened, for reads that go on in it.
    last: Option<(usize, Vec<u8>)>,
    pos: u64,
}

impl SealedFile {
    pub fn new(file: File, header: Header, key: DataKey, map: Arc<ChunkMap>) -> SealedFile {
        SealedFile {
            file,
            header: header.encode(),
            key,
            map,
            last: None,
            pos: 0,
        }
    }

    pub fn map(&self) -> &ChunkMap {
        &self.map
    }

    pub fn len(&self) -> u64 {
        self.map.plain_len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn chunk(&mut self, i: usize) -> io::Result<&[u8]> {
        if self.last.as_ref().is_none_or(|(j, _)| *j != i) {
            let c = self.map.chunks[i];
            let p = open_chunk(&self.file, &self.header, &self.key, i as u64, &c)?;
            self.last = Some((i, p));
        }
        Ok(self.last.as_ref().map_or(&[][..], |(_, p)| p.as_slice()))
    }

    /// Reads plaintext at `offset`; 0 at the end.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            let at = offset + n as u64;
            let Some(i) = self.map.find(at) else {
                break;
            };
            let start = self.map.chunks[i].plain;
            let p = self.chunk(i)?;
            let from = usize::try_from(at - start)
                .unwrap_or(usize::MAX)
                .min(p.len());
            let k = (p.len() - from).min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&p[from..from + k]);
            n += k;
            if k == 0 {
                break;
            }
        }
        Ok(n)
    }

    /// Authenticates every chunk: the first that fails (its number), or `None`.
    pub fn first_damaged(&mut self) -> Option<usize> {
        (0..self.map.chunks.len()).find(|&i| {
            self.last = None;
            self.chunk(i).is_err()
        })
    }

    /// This file's plaintext view without chunk `i` and those after it.
    pub fn cut(&mut self, i: usize) {
        self.map = Arc::new(self.map.cut(i));
        self.last = None;
    }

    pub fn into_parts(self) -> (File, DataKey, Arc<ChunkMap>) {
        (self.file, self.key, self.map)
    }
}

impl Read for SealedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SealedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.len();
        let p = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos =
            p.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}
