//! Writing a sealed file: plaintext appended, cut into chunks of at most
//! `CHUNK` bytes, each sealed and written once at the end of the file. A sync
//! point closes the chunk in progress (a short one), so synced data is never
//! rewritten; `finish` writes the final chunk.

use super::format::{CHUNK, HEADER_LEN, Header, LenField, chunk_aad};
use super::keys::{DataKey, seal};
use super::reader::{Chunk, ChunkMap, open_chunk};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

pub struct SealWriter {
    file: File,
    header: [u8; HEADER_LEN],
    key: DataKey,
    /// Plaintext not yet in a chunk on disk.
    pending: Vec<u8>,
    /// Where each chunk went: kept so a failed append can be cut back.
    written: Vec<Chunk>,
    plain_on_disk: u64,
    disk_len: u64,
    finished: bool,
}

fn crypto(e: super::SealError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Chunk `index` (plaintext `data` from `plain_offset`) as it goes on disk.
pub(super) fn sealed_chunk(
    header: &[u8; HEADER_LEN],
    key: &DataKey,
    index: u64,
    plain_offset: u64,
    data: &[u8],
    last: bool,
) -> Result<Vec<u8>, super::SealError> {
    let len = LenField {
        len: data.len(),
        last,
    }
    .encode();
    let aad = chunk_aad(header, index, plain_offset, len);
    let mut body = data.to_vec();
    let (nonce, tag) = seal(&key.aead, &aad, &mut body)?;
    let mut out = Vec::with_capacity(body.len() + super::format::CHUNK_OVERHEAD);
    out.extend_from_slice(&len);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    Ok(out)
}

impl SealWriter {
    /// Starts a sealed file in an empty `file` (open for reading too: a cut
    /// back reads a chunk again), writing its header.
    pub fn create(file: File, header: Header, key: DataKey) -> io::Result<SealWriter> {
        let header = header.encode();
        file.write_all_at(&header, 0)?;
        Ok(SealWriter {
            file,
            header,
            key,
            pending: Vec::new(),
            written: Vec::new(),
            plain_on_disk: 0,
            disk_len: HEADER_LEN as u64,
            finished: false,
        })
    }

    /// Plaintext written so far (on disk or pending).
    pub fn plain_len(&self) -> u64 {
        self.plain_on_disk + self.pending.len() as u64
    }

    pub fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        if self.finished {
            return Err(io::Error::other("the sealed file is finished"));
        }
        while !data.is_empty() {
            let room = CHUNK - self.pending.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.pending.extend_from_slice(now);
            data = rest;
            if self.pending.len() == CHUNK {
                self.write_chunk(false)?;
            }
        }
        Ok(())
    }

    fn write_chunk(&mut self, last: bool) -> io::Result<()> {
        let index = self.written.len() as u64;
        let out = sealed_chunk(
            &self.header,
            &self.key,
            index,
            self.plain_on_disk,
            &self.pending,
            last,
        )
        .map_err(crypto)?;
        if let Err(e) = self.file.write_all_at(&out, self.disk_len) {
            let _ = self.file.set_len(self.disk_len);
            return Err(e);
        }
        self.written.push(Chunk {
            disk: self.disk_len,
            plain: self.plain_on_disk,
            len: self.pending.len(),
            last,
        });
        self.disk_len += out.len() as u64;
        self.plain_on_disk += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Seals what is pending into a chunk and syncs the file's data.
    pub fn sync_data(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() && !self.finished {
            self.write_chunk(false)?;
        }
        self.file.sync_data()
    }

    /// Writes the final chunk and syncs; again after success does nothing.
    pub fn finish(&mut self) -> io::Result<()> {
        if !self.finished {
            self.write_chunk(true)?;
            self.finished = true;
        }
        self.file.sync_data()
    }

    /// Cuts the plaintext back to `plain_len` (after a failed append): a chunk
    /// holding the cut is read back and its head made pending again.
    pub fn cut_back(&mut self, plain_len: u64) -> io::Result<()> {
        if plain_len >= self.plain_on_disk {
            let keep = usize::try_from(plain_len - self.plain_on_disk).unwrap_or(usize::MAX);
            self.pending.truncate(keep);
            return Ok(());
        }
        let Some(i) = self.written.iter().rposition(|w| w.plain <= plain_len) else {
            return Err(io::Error::other("cut before the first chunk"));
        };
        let w = self.written[i];
        let plain = open_chunk(&self.file, &self.header, &self.key, i as u64, &w)?;
        let keep = usize::try_from(plain_len - w.plain).unwrap_or(usize::MAX);
        self.file.set_len(w.disk)?;
        self.written.truncate(i);
        self.disk_len = w.disk;
        self.plain_on_disk = w.plain;
        self.finished = false;
        self.pending = plain[..keep.min(plain.len())].to_vec();
        Ok(())
    }
}

/// Ends a sealed file's plaintext at `plain_len` with a final chunk (recovery of
/// a torn or unfinished file): whole chunks before the cut stay as written.
pub fn finish_at(
    file: File,
    header: Header,
    key: DataKey,
    map: &ChunkMap,
    plain_len: u64,
) -> io::Result<()> {
    let header = header.encode();
    let chunks = map.chunks();
    // The first chunk that reaches past the cut (or starts at it) is replaced.
    let i = chunks
        .iter()
        .position(|c| c.plain + c.len as u64 > plain_len || c.plain == plain_len)
        .unwrap_or(chunks.len());
    let (disk, plain) = chunks
        .get(i)
        .map_or((map.disk_end(), map.plain_len()), |c| (c.disk, c.plain));
    let pending = match chunks.get(i) {
        Some(c) if plain_len > c.plain => {
            let p = open_chunk(&file, &header, &key, i as u64, c)?;
            let keep = usize::try_from(plain_len - c.plain).unwrap_or(usize::MAX);
            p[..keep.min(p.len())].to_vec()
        }
        _ => Vec::new(),
    };
    file.set_len(disk)?;
    let mut w = SealWriter {
        file,
        header,
        key,
        pending,
        written: chunks[..i].to_vec(),
        plain_on_disk: plain,
        disk_len: disk,
        finished: false,
    };
    w.finish()?;
    w.file.sync_all()
}
