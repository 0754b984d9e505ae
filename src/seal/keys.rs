//! Keys: the master key (a small file kept apart from the recordings) and the
//! random data keys each sealed file gets, stored in the index wrapped (sealed)
//! by the master key and bound to their number, so a wrapped key cannot be moved
//! to another number. Deleting a wrapped key makes its file unreadable for good.

use super::SealError;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use std::path::Path;

const KEY_LEN: usize = 32;
const FILE_PREFIX: &str = "hearth-master-key-1:";
/// A wrapped data key's length: nonce, sealed key, tag.
pub const WRAPPED_LEN: usize = super::format::NONCE_LEN + KEY_LEN + super::format::TAG_LEN;

/// Fills `buf` from the operating system's random source.
pub fn random(buf: &mut [u8]) -> Result<(), SealError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| SealError::Crypto("the system's random source failed".into()))
}

fn aead_key(bytes: &[u8; KEY_LEN]) -> Result<LessSafeKey, SealError> {
    UnboundKey::new(&CHACHA20_POLY1305, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| SealError::Crypto("bad key length".into()))
}

/// Seals `data` in place under a fresh random nonce; returns the nonce and tag.
pub(super) fn seal(
    key: &LessSafeKey,
    aad: &[u8],
    data: &mut [u8],
) -> Result<([u8; 12], [u8; 16]), SealError> {
    let mut nonce = [0u8; 12];
    random(&mut nonce)?;
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), data)
        .map_err(|_| SealError::Crypto("sealing failed".into()))?;
    let mut t = [0u8; 16];
    t.copy_from_slice(tag.as_ref());
    Ok((nonce, t))
}

/// Opens `data` (ciphertext followed by its tag) in place; the plaintext is the
/// first `data.len() - 16` bytes. `false` when it does not authenticate.
pub(super) fn open(key: &LessSafeKey, nonce: [u8; 12], aad: &[u8], data: &mut [u8]) -> bool {
    key.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), data)
        .is_ok()
}

/// The key that wraps every data key. Never logged; its fingerprint names it.
pub struct MasterKey {
    key: LessSafeKey,
    fingerprint: String,
}

impl MasterKey {
    fn from_bytes(bytes: [u8; KEY_LEN]) -> Result<MasterKey, SealError> {
        let mut h = Sha256::new();
        h.update(b"hearth master key fingerprint");
        h.update(bytes);
        let d = h.finalize();
        let fingerprint = d[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(MasterKey {
            key: aead_key(&bytes)?,
            fingerprint,
        })
    }

    /// A new random key and the text of its key file.
    pub fn generate() -> Result<(MasterKey, String), SealError> {
        let mut bytes = [0u8; KEY_LEN];
        random(&mut bytes)?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok((
            MasterKey::from_bytes(bytes)?,
            format!("{FILE_PREFIX}{hex}\n"),
        ))
    }

    /// The key in a key file's text.
    pub fn parse(text: &str) -> Result<MasterKey, String> {
        let hex = text
            .trim()
            .strip_prefix(FILE_PREFIX)
            .ok_or("not a Hearth key file (made by `hearth key generate`)")?;
        if hex.len() != KEY_LEN * 2 {
            return Err("the key is not 64 hex digits".into());
        }
        let mut bytes = [0u8; KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16)
                .map_err(|_| "the key is not 64 hex digits")?;
        }
        MasterKey::from_bytes(bytes).map_err(|e| e.to_string())
    }

    /// Reads a key file, refusing one that others may read.
    pub fn load(path: &Path) -> Result<MasterKey, SealError> {
        use std::os::unix::fs::PermissionsExt;
        let at = |message: String| SealError::KeyFile {
            path: path.display().to_string(),
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| at(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(at(format!(
                "others may read it (mode {mode:04o}); `chmod 600` it"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        MasterKey::parse(&text).map_err(at)
    }

    /// A short public name for the key: the index remembers it, so a wrong key
    /// is refused by name rather than failing file by file.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn wrap_aad(id: u64) -> Vec<u8> {
        let mut a = b"hearth data key ".to_vec();
        a.extend_from_slice(&id.to_be_bytes());
        a
    }

    /// A data key wrapped for the index, bound to its number.
    pub fn wrap(&self, id: u64, key: &DataKey) -> Result<Vec<u8>, SealError> {
        let mut data = key.bytes.to_vec();
        let (nonce, tag) = seal(&self.key, &Self::wrap_aad(id), &mut data)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// The data key numbered `id` from its wrapped form.
    pub fn unwrap(&self, id: u64, wrapped: &[u8]) -> Result<DataKey, SealError> {
        let bad = || SealError::Crypto(format!("data key {id} does not open with this master key"));
        if wrapped.len() != WRAPPED_LEN {
            return Err(bad());
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&wrapped[..12]);
        let mut data = wrapped[12..].to_vec();
        if !open(&self.key, nonce, &Self::wrap_aad(id), &mut data) {
            return Err(bad());
        }
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(&data[..KEY_LEN]);
        DataKey::from_bytes(bytes)
    }
}

/// One file's key.
#[derive(Clone)]
pub struct DataKey {
    bytes: [u8; KEY_LEN],
    pub(super) aead: std::sync::Arc<LessSafeKey>,
}

impl DataKey {
    fn from_bytes(bytes: [u8; KEY_LEN]) -> Result<DataKey, SealError> {
        Ok(DataKey {
            bytes,
            aead: std::sync::Arc::new(aead_key(&bytes)?),
        })
    }

    pub fn generate() -> Result<DataKey, SealError> {
        let mut bytes = [0u8; KEY_LEN];
        random(&mut bytes)?;
        DataKey::from_bytes(bytes)
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.fingerprint)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trips_and_bad_ones_say_why() {
        let (k, text) = MasterKey::generate().unwrap();
        assert_eq!(
            MasterKey::parse(&text).unwrap().fingerprint(),
            k.fingerprint()
        );
        assert!(
            MasterKey::parse("hello")
                .unwrap_err()
                .contains("not a Hearth key file")
        );
        assert!(
            MasterKey::parse("hearth-master-key-1:abc")
                .unwrap_err()
                .contains("64 hex")
        );
    }

    #[test]
    fn wrapped_keys_open_only_under_their_master_and_number() {
        let (m, _) = MasterKey::generate().unwrap();
        let (other, _) = MasterKey::generate().unwrap();
        let d = DataKey::generate().unwrap();
        let w = m.wrap(5, &d).unwrap();
        assert_eq!(w.len(), WRAPPED_LEN);
        assert_eq!(m.unwrap(5, &w).unwrap().bytes, d.bytes);
        assert!(m.unwrap(6, &w).is_err(), "moved to another number");
        assert!(other.unwrap(5, &w).is_err(), "another master key");
        let mut flipped = w.clone();
        flipped[20] ^= 1;
        assert!(m.unwrap(5, &flipped).is_err());
    }

    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let (_, text) = MasterKey::generate().unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = MasterKey::load(&p).err().unwrap().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(MasterKey::load(&p).is_ok());
    }
}
