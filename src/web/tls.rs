//! TLS material: the owner's PEM files, or a self-signed certificate generated on
//! first start and kept in the data directory (key readable by the owner only).

use crate::config::Tls;
use anyhow::Context;
use std::path::Path;

pub const CERT_FILE: &str = "tls-cert.pem";
pub const KEY_FILE: &str = "tls-key.pem";

/// (certificate chain PEM, private key PEM), or `None` for plain HTTP.
pub fn load(tls: &Tls, data_dir: &Path) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
    match tls {
        Tls::Off => Ok(None),
        Tls::Files { cert, key } => Ok(Some((
            std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?,
            std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?,
        ))),
        Tls::SelfSigned => {
            let (cert, key) = (data_dir.join(CERT_FILE), data_dir.join(KEY_FILE));
            if !cert.exists() || !key.exists() {
                generate(&cert, &key)?;
            }
            Ok(Some((std::fs::read(&cert)?, std::fs::read(&key)?)))
        }
    }
}

fn generate(cert_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !host.is_empty() {
        names.push(host.clone());
        names.push(format!("{host}.local"));
    }
    let key = rcgen::KeyPair::generate().context("cannot generate a TLS key")?;
    let mut params = rcgen::CertificateParams::new(names).context("bad certificate names")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hearth NVR (self-signed)");
    params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(key_path)
        .with_context(|| format!("cannot write {}", key_path.display()))?;
    f.write_all(key.serialize_pem().as_bytes())?;
    std::fs::write(cert_path, cert.pem())
        .with_context(|| format!("cannot write {}", cert_path.display()))?;
    tracing::info!(
        "generated a self-signed TLS certificate: {} (browsers will ask you to accept it once)",
        cert_path.display()
    );
    Ok(())
}
