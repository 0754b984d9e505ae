//! MQTT over TLS against Debian's mosquitto on loopback: with the owner's CA
//! file Hearth connects to `mqtts://localhost` (the certificate checked against
//! the configured name, the connection made to the guard's checked address) and
//! says it is online; with another CA it refuses the broker, says why, and
//! sends it nothing.

mod common;

use common::mqtt::{Broker, PASSWORD, USER};
use common::*;
use std::path::Path;
use std::time::Duration;

/// A CA and a certificate it signed for `localhost`, written into `dir`:
/// returns the CA file's path.
fn ca_and_server(dir: &Path, tag: &str) -> std::path::PathBuf {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, format!("Test CA {tag}"));
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("server certificate");
    let ca_file = dir.join(format!("ca-{tag}.pem"));
    std::fs::write(&ca_file, ca.pem()).expect("ca");
    std::fs::write(dir.join(format!("server-{tag}.pem")), cert.pem()).expect("cert");
    std::fs::write(dir.join(format!("server-{tag}.key")), key.serialize_pem()).expect("key");
    ca_file
}

fn hearth(tls_port: u16, ca: &Path) -> Nvr {
    let port = free_port();
    Nvr::new(
        &format!(
            "min_free = \"1MB\"\n[mqtt]\nbroker = \"mqtts://localhost:{tls_port}\"\n\
             username = \"{USER}\"\npassword = \"{PASSWORD}\"\nca_file = \"{}\"\n",
            ca.display()
        ),
        &[Cam {
            name: "porch",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: "",
        }],
    )
}

#[test]
fn tls_to_the_broker_with_the_owners_ca_and_refused_with_another() {
    let certs = tempfile::tempdir().expect("tempdir");
    let ca = ca_and_server(certs.path(), "good");
    let other = ca_and_server(certs.path(), "other");
    let tls_port = free_port();
    let d = certs.path().display();
    let broker = Broker::start_with(&format!(
        "listener {tls_port} 127.0.0.1\ncafile {d}/ca-good.pem\ncertfile {d}/server-good.pem\n\
         keyfile {d}/server-good.key\n"
    ));
    let sub = broker.subscribe();

    // Another CA: the broker's certificate is refused, and nothing is published.
    let mut wrong = hearth(tls_port, &other);
    wrong.start();
    assert!(
        wait_until(Duration::from_secs(30), || {
            let log = wrong.log_text();
            log.contains("MQTT: the broker at") && log.to_lowercase().contains("certificate")
        }),
        "no word of the refused certificate: {}",
        wrong.log_text()
    );
    assert!(sub.on("hearth/available").is_empty(), "{:?}", sub.seen());
    let said = wrong.log_text();
    let line = said.lines().find(|l| l.contains("MQTT: the broker at"));
    println!("with another CA: {}", line.unwrap_or_default());
    wrong.stop();

    // The owner's CA: online over TLS.
    let mut right = hearth(tls_port, &ca);
    right.start();
    assert!(
        sub.wait_for(Duration::from_secs(30), "hearth/available", "online"),
        "never online over TLS: {}",
        right.log_text()
    );
    right.stop();
}
