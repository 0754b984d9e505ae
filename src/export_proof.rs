//! Exports that prove themselves: the installation's Ed25519 signing key (made
//! on first start, kept in the data directory), a manifest of what an export
//! is (camera, range, the hash of the video and of each segment file it came
//! from, its audit entries) signed with it, and the offline check of an export
//! bundle. The bundle is the export's MP4 with one more top-level box at its
//! end, a `uuid` box that players skip, holding the manifest and its signature.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The key file in the data directory.
pub const KEY_FILE: &str = "signing.key";
/// The proof box's extended type.
const UUID: [u8; 16] = *b"HEARTH-PROOF-v1\0";
const FORMAT: &str = "hearth-export-1";
const SIGNED_PREFIX: &[u8] = b"hearth-export-proof-v1\n";
const SIG_LEN: usize = 64;
/// A manifest larger than this is not one Hearth wrote.
const MAX_MANIFEST: u64 = 16 << 20;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A public key's short name: the first 8 bytes of its SHA-256, in hex.
pub fn fingerprint(public: &[u8]) -> String {
    let d = Sha256::digest(public);
    d[..8].chunks(2).map(hex).collect::<Vec<_>>().join(":")
}

/// The installation's signing key.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// The data directory's key, made (0600) when it has none.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<SigningKey> {
        use anyhow::Context;
        let path = data_dir.join(KEY_FILE);
        let pkcs8 = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                    .map_err(|_| anyhow::anyhow!("the system's random source failed"))?;
                write_new(&path, doc.as_ref())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                tracing::info!("made the export signing key {}", path.display());
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| anyhow::anyhow!("{}: not an Ed25519 key ({e})", path.display()))?;
        Ok(SigningKey { pair })
    }

    pub fn public(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public key as bundles carry it and the UI shows it.
    pub fn public_b64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.public())
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(self.public())
    }

    /// The proof box for `manifest` (whose `installation` is set here).
    pub fn proof_box(&self, mut manifest: Manifest) -> Vec<u8> {
        manifest.format = FORMAT.into();
        manifest.installation = self.public_b64();
        // Serializing plain data cannot fail.
        let json = serde_json::to_vec(&manifest).unwrap_or_default();
        let mut signed = SIGNED_PREFIX.to_vec();
        signed.extend_from_slice(&json);
        let sig = self.pair.sign(&signed);
        let size = 8 + UUID.len() + json.len() + SIG_LEN;
        let mut b = Vec::with_capacity(size);
        b.extend_from_slice(&u32::try_from(size).unwrap_or(u32::MAX).to_be_bytes());
        b.extend_from_slice(b"uuid");
        b.extend_from_slice(&UUID);
        b.extend_from_slice(&json);
        b.extend_from_slice(sig.as_ref());
        b
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// A segment file an export came from, as it was when the export was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentHash {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// An audit entry of the export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRef {
    pub id: i64,
    pub time: String,
    pub user: Option<String>,
    pub action: String,
    pub detail: Option<String>,
    pub hash: String,
}

impl AuditRef {
    /// Entry `id` of the chain, appended at `time_us` with hash `hash`.
    pub fn new(id: i64, time_us: i64, hash: &[u8], r: &crate::audit_record::Record) -> AuditRef {
        AuditRef {
            id,
            time: rfc3339(time_us),
            user: r.user.clone(),
            action: r.action.clone(),
            detail: r.detail.clone(),
            hash: hex(hash),
        }
    }
}

/// What an export is, signed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The signing key (base64 Ed25519 public key).
    pub installation: String,
    pub camera: String,
    pub stream: String,
    pub from: String,
    pub to: String,
    pub created: String,
    pub video_bytes: u64,
    pub video_sha256: String,
    pub segments: Vec<SegmentHash>,
    pub audit: Vec<AuditRef>,
}

/// RFC 3339 in UTC, to the microsecond.
pub fn rfc3339(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

/// The SHA-256 of the first `len` bytes of `r`, in hex.
pub fn sha256_of(r: &mut impl Read, len: u64) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut left = len;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        r.read_exact(&mut buf[..n])?;
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(hex(&h.finalize()))
}

/// A writer that hashes what goes through it: the video of a bundle as it is
/// written.
pub struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: std::io::Write> Hashing<W> {
    pub fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    /// The writer back, with the length and SHA-256 (hex) of what went through.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex(&self.hash.finalize()))
    }
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What checking a bundle found.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    /// The signing key's fingerprint.
    pub signer: String,
}

/// Checks a bundle offline: the proof box is the file's last box, its signature
/// holds under the key it names, and the video before it is the one signed.
pub fn verify(file: &mut (impl Read + Seek)) -> Result<Verified, String> {
    let len = file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    // Walk the top-level boxes to the last one.
    let (mut at, mut last) = (0u64, None);
    while at < len {
        let mut h = [0u8; 8];
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.read_exact(&mut h))
            .map_err(|_| format!("a torn box at byte {at}"))?;
        let size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let size = match size {
            1 => {
                let mut l = [0u8; 8];
                file.read_exact(&mut l).map_err(|e| e.to_string())?;
                u64::from_be_bytes(l)
            }
            0 => len - at,
            s => s,
        };
        if size < 8 || at + size > len {
            return Err(format!("a box at byte {at} runs past the end of the file"));
        }
        last = Some((at, size, [h[4], h[5], h[6], h[7]]));
        at += size;
    }
    let Some((start, size, typ)) = last else {
        return Err("the file is empty".into());
    };
    let payload = size
        .checked_sub(8 + UUID.len() as u64 + SIG_LEN as u64)
        .filter(|p| *p <= MAX_MANIFEST && &typ == b"uuid")
        .ok_or("not a Hearth export bundle: no proof at its end")?;
    let mut uuid = [0u8; 16];
    file.seek(SeekFrom::Start(start + 8))
        .and_then(|_| file.read_exact(&mut uuid))
        .map_err(|e| e.to_string())?;
    if uuid != UUID {
        return Err("not a Hearth export bundle: no proof at its end".into());
    }
    let mut json = vec![0u8; usize::try_from(payload).map_err(|e| e.to_string())?];
    let mut sig = [0u8; SIG_LEN];
    file.read_exact(&mut json)
        .and_then(|_| file.read_exact(&mut sig))
        .map_err(|e| e.to_string())?;
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| format!("the manifest is damaged: {e}"))?;
    if manifest.format != FORMAT {
        return Err(format!("a manifest of format {:?}", manifest.format));
    }
    let public = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&manifest.installation)
            .map_err(|_| "the manifest's signing key is damaged")?
    };
    let mut signed = SIGNED_PREFIX.to_vec();
    signed.extend_from_slice(&json);
    UnparsedPublicKey::new(&ED25519, &public)
        .verify(&signed, &sig)
        .map_err(|_| "the signature does not match: the manifest was changed after signing")?;
    if manifest.video_bytes != start {
        return Err(format!(
            "the video is {start} bytes, the manifest signed {}",
            manifest.video_bytes
        ));
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let got = sha256_of(file, start).map_err(|e| e.to_string())?;
    if got != manifest.video_sha256 {
        return Err("the video was changed after it was signed (its SHA-256 differs)".into());
    }
    Ok(Verified {
        signer: fingerprint(&public),
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bundle(key: &SigningKey, video: &[u8]) -> Vec<u8> {
        let m = Manifest {
            camera: "den".into(),
            video_bytes: video.len() as u64,
            video_sha256: sha256_of(&mut Cursor::new(video), video.len() as u64).unwrap(),
            ..Manifest::default()
        };
        let mut b = video.to_vec();
        b.extend(key.proof_box(m));
        b
    }

    /// A tiny stand-in for an MP4: two top-level boxes.
    fn video() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 16];
        v.extend_from_slice(b"ftypisom\0\0\0\0");
        v.extend_from_slice(&[0, 0, 0, 12]);
        v.extend_from_slice(b"mdat1234");
        v
    }

    #[test]
    fn a_bundle_verifies_and_any_changed_byte_fails_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(dir.path()).unwrap();
        let again = SigningKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.public(), again.public(), "made once, then kept");
        let b = bundle(&key, &video());
        let v = verify(&mut Cursor::new(&b)).unwrap();
        assert_eq!(v.signer, key.fingerprint());
        assert_eq!(v.manifest.camera, "den");
        for i in 0..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x01;
            assert!(
                verify(&mut Cursor::new(&bad)).is_err(),
                "byte {i} changed unnoticed"
            );
        }
        assert!(
            verify(&mut Cursor::new(&video()))
                .unwrap_err()
                .contains("no proof")
        );
        // Re-signed by another key: it verifies, but names another signer.
        let other = SigningKey::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let forged = bundle(&other, &video());
        assert_ne!(
            verify(&mut Cursor::new(&forged)).unwrap().signer,
            key.fingerprint()
        );
    }
}
