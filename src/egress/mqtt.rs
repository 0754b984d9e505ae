//! The MQTT broker through the guard: its host is resolved and checked here and
//! the client is given the checked address, never the name, so it connects
//! where the guard allowed. Over TLS the broker's certificate is still checked
//! against the configured name (not the address), with the system's CAs or the
//! owner's `ca_file`. Called again before each reconnect, so a broker that
//! moves is followed through the same check.

use super::Reach;
use crate::config::Mqtt;
use anyhow::Context;
use rumqttc::{LastWill, MqttOptions, Transport};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;
use std::time::Duration;

/// The largest message Hearth sends (an event's snapshot fits many times over)
/// and takes (commands are a word).
pub const MAX_OUTGOING: usize = 4 << 20;
const MAX_INCOMING: usize = 64 << 10;

/// Options for one connection to `m`'s broker at a checked address, with `will`
/// as its last will.
pub async fn options(m: &Mqtt, will: LastWill) -> anyhow::Result<MqttOptions> {
    let reach = Reach::from_allow_internet(m.allow_internet);
    let addr = super::resolve(&m.host, m.port, reach).await?[0];
    let mut o = MqttOptions::new(m.client_id.clone(), addr.ip().to_string(), addr.port());
    o.set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        .set_last_will(will)
        .set_max_packet_size(MAX_INCOMING, MAX_OUTGOING);
    if let (Some(user), Some(pw)) = (&m.username, &m.password) {
        o.set_credentials(user.clone(), pw.expose().to_owned());
    } else if let Some(user) = &m.username {
        o.set_credentials(user.clone(), String::new());
    }
    if m.tls {
        let config = tls_config(m).await?;
        o.set_transport(Transport::tls_with_config(config.into()));
    }
    Ok(o)
}

async fn tls_config(m: &Mqtt) -> anyhow::Result<rustls::ClientConfig> {
    let ca_file = m.ca_file.clone();
    let roots = tokio::task::spawn_blocking(move || roots(ca_file.as_deref())).await??;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("cannot set up the broker's certificate check")?;
    let name = ServerName::try_from(m.host.clone())
        .with_context(|| format!("{} is not a name a certificate can carry", m.host))?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ForName { inner, name }))
        .with_no_client_auth())
}

fn roots(ca_file: Option<&std::path::Path>) -> anyhow::Result<rustls::RootCertStore> {
    let mut store = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for c in CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read the broker's CA file {}", path.display()))?
            {
                let c = c.with_context(|| format!("{}: not a PEM certificate", path.display()))?;
                store.add(c).context("the CA certificate was refused")?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
        }
    }
    anyhow::ensure!(
        !store.is_empty(),
        "no CA certificate to check the broker's with"
    );
    Ok(store)
}

/// The web PKI check of a certificate, for the configured name whatever
/// address the connection went to.
#[derive(Debug)]
struct ForName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for ForName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _connected_to: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
