//! Small sealed values kept in memory or in the index (event pictures): the
//! same format as a sealed file, written and read whole.

use super::SealError;
use super::format::{CHUNK, CHUNK_OVERHEAD, HEADER_LEN, Header, LenField};
use super::keys::DataKey;
use super::reader::{Chunk, open_sealed_chunk};
use super::writer::sealed_chunk;

/// `data` sealed under `key` (numbered in `header`).
pub fn seal(header: Header, key: &DataKey, data: &[u8]) -> Result<Vec<u8>, SealError> {
    let h = header.encode();
    let mut out = h.to_vec();
    let pieces: Vec<&[u8]> = if data.is_empty() {
        vec![data]
    } else {
        data.chunks(CHUNK).collect()
    };
    let mut plain = 0;
    for (i, p) in pieces.iter().enumerate() {
        out.extend(sealed_chunk(
            &h,
            key,
            i as u64,
            plain,
            p,
            i + 1 == pieces.len(),
        )?);
        plain += p.len() as u64;
    }
    Ok(out)
}

/// The plaintext of a sealed value; an error when any part fails to
/// authenticate, or it ends before its final chunk.
pub fn open(bytes: &[u8], key: &DataKey) -> Result<Vec<u8>, String> {
    let header = Header::decode(bytes)?.ok_or("not sealed")?.encode();
    let mut at = HEADER_LEN;
    let mut out = Vec::new();
    for index in 0u64.. {
        let lenb: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or("the sealed value is cut short")?;
        let f = LenField::decode(lenb).ok_or("a damaged chunk length")?;
        let end = at + CHUNK_OVERHEAD + f.len;
        let chunk = bytes.get(at..end).ok_or("the sealed value is cut short")?;
        let c = Chunk {
            disk: at as u64,
            plain: out.len() as u64,
            len: f.len,
            last: f.last,
        };
        let plain = open_sealed_chunk(chunk.to_vec(), &header, key, index, &c)
            .map_err(|e| e.to_string())?;
        out.extend(plain);
        at = end;
        if f.last {
            break;
        }
    }
    if at != bytes.len() {
        return Err("data after the final chunk".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_any_change_is_refused() {
        let key = DataKey::generate().unwrap();
        let h = crate::seal::new_header(3).unwrap();
        for n in [0, 10, CHUNK, CHUNK * 2 + 5] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251).to_le_bytes()[0]).collect();
            let s = seal(h, &key, &data).unwrap();
            assert_eq!(open(&s, &key).unwrap(), data);
            let mut bad = s.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(open(&bad, &key).is_err());
            assert!(open(&s[..s.len() - 1], &key).is_err());
        }
        let s = seal(h, &key, b"picture").unwrap();
        assert!(open(&s, &DataKey::generate().unwrap()).is_err());
    }
}
