//! The sealed file format (pure): a clear header naming the file's data key, then
//! chunks of at most [`CHUNK`] plaintext bytes, each sealed with
//! ChaCha20-Poly1305 under its own random nonce and bound by its associated data
//! to the header, its number and its plaintext position, so a chunk cannot be
//! moved, swapped into another file, dropped or altered unnoticed. The last chunk
//! carries the final flag: a file cut at a chunk boundary is seen to be cut.
//!
//! A chunk ends at `CHUNK` bytes or when the writer syncs, so nothing synced is
//! ever rewritten: a crash leaves at most a torn last chunk. Readers find a
//! plaintext offset's chunk from the chunk lengths (see `reader`).
//!
//! ```text
//! header  magic "HRTHSEAL" | version 1 | reserved 3 | key id u64 | salt 16   (36 bytes)
//! chunk   len u32 (bit 31: final) | nonce 12 | ciphertext len | tag 16
//! aad     header | chunk number u64 | plaintext offset u64 | len u32
//! ```

pub const MAGIC: [u8; 8] = *b"HRTHSEAL";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 36;
/// Most plaintext in one chunk.
pub const CHUNK: usize = 64 << 10;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// A chunk's bytes on disk beyond its plaintext.
pub const CHUNK_OVERHEAD: usize = 4 + NONCE_LEN + TAG_LEN;
const FINAL: u32 = 1 << 31;

/// A sealed file's clear header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The data key's number in the index.
    pub key_id: u64,
    /// Random per file: binds its chunks to it.
    pub salt: [u8; 16],
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[8] = VERSION;
        b[12..20].copy_from_slice(&self.key_id.to_be_bytes());
        b[20..36].copy_from_slice(&self.salt);
        b
    }

    /// The header at the start of `b`; `None` when `b` does not start with the
    /// magic (a plain file), an error for a sealed file this version cannot read.
    pub fn decode(b: &[u8]) -> Result<Option<Header>, String> {
        if b.len() < 8 || b[..8] != MAGIC {
            return Ok(None);
        }
        if b.len() < HEADER_LEN {
            return Err("sealed file header is torn".into());
        }
        if b[8] != VERSION {
            return Err(format!(
                "sealed with format version {}, this Hearth reads {VERSION}",
                b[8]
            ));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&b[12..20]);
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&b[20..36]);
        Ok(Some(Header {
            key_id: u64::from_be_bytes(key_id),
            salt,
        }))
    }
}

/// A chunk's length field: its plaintext length and whether it is the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LenField {
    pub len: usize,
    pub last: bool,
}

impl LenField {
    pub fn encode(self) -> [u8; 4] {
        // CHUNK is far below 2^31, and writers never exceed it.
        let n = u32::try_from(self.len.min(CHUNK)).unwrap_or(0);
        (n | if self.last { FINAL } else { 0 }).to_be_bytes()
    }

    /// `None` for a length no writer makes (damage).
    pub fn decode(b: [u8; 4]) -> Option<LenField> {
        let v = u32::from_be_bytes(b);
        let len = usize::try_from(v & !FINAL).ok()?;
        (len <= CHUNK).then_some(LenField {
            len,
            last: v & FINAL != 0,
        })
    }
}

/// The associated data that binds chunk `index` to its file and place.
pub fn chunk_aad(
    header: &[u8; HEADER_LEN],
    index: u64,
    plain_offset: u64,
    len: [u8; 4],
) -> Vec<u8> {
    let mut a = Vec::with_capacity(HEADER_LEN + 20);
    a.extend_from_slice(header);
    a.extend_from_slice(&index.to_be_bytes());
    a.extend_from_slice(&plain_offset.to_be_bytes());
    a.extend_from_slice(&len);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_plain_files_are_not_sealed() {
        let h = Header {
            key_id: 0x0102_0304_0506_0708,
            salt: [7; 16],
        };
        assert_eq!(Header::decode(&h.encode()), Ok(Some(h)));
        assert_eq!(Header::decode(b"\0\0\0\x20ftypisom"), Ok(None));
        assert_eq!(Header::decode(b""), Ok(None));
        assert!(Header::decode(&h.encode()[..20]).is_err());
        let mut v2 = h.encode();
        v2[8] = 2;
        assert!(Header::decode(&v2).unwrap_err().contains("version 2"));
    }

    #[test]
    fn length_field_carries_the_final_flag_and_refuses_oversize() {
        for f in [
            LenField { len: 0, last: true },
            LenField {
                len: CHUNK,
                last: false,
            },
            LenField {
                len: 17,
                last: true,
            },
        ] {
            assert_eq!(LenField::decode(f.encode()), Some(f));
        }
        let too_big = u32::try_from(CHUNK + 1).unwrap().to_be_bytes();
        assert_eq!(LenField::decode(too_big), None);
    }
}
