//! The one way out of the machine. Every outbound connection Hearth makes (camera
//! streams, connection tests, ONVIF, the MQTT broker, webhooks, push servers) goes
//! through here: the destination's host is resolved here, each address it gives is
//! checked against the destination's reach, and only a checked address is
//! connected to — the connection is made to that address, never to the name again,
//! so a DNS answer that changes between the check and the connection (rebinding)
//! cannot send Hearth anywhere else. Addresses off the local network are refused
//! unless that destination says `allow_internet = true`; each refusal is logged
//! once. `tests/egress_only.rs` fails when code outside this module opens an
//! outbound socket or hands a URL to a client that would resolve it itself.

pub mod http;
pub mod local;
pub mod mqtt;
pub mod multicast;
pub mod rtsp;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::{LazyLock, Mutex};

/// Where a destination may reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// This machine and the local network: loopback, private, link-local and
    /// unique-local addresses. The default of every destination.
    Local,
    /// Any unicast address (`allow_internet = true`).
    Internet,
}

impl Reach {
    pub fn from_allow_internet(allow: bool) -> Reach {
        if allow { Reach::Internet } else { Reach::Local }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
    #[error(
        "{host} is at {addr}, outside the local network; refused (set allow_internet = true \
         on this destination to allow it)"
    )]
    Public { host: String, addr: IpAddr },
    #[error("{host} is at {addr}, which is not an address to connect to; refused")]
    Unusable { host: String, addr: IpAddr },
}

/// Whether `ip` is on this machine or the local network (pure).
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => local_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => local_v4(v4),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || first & 0xfe00 == 0xfc00 // unique local, fc00::/7
                    || first & 0xffc0 == 0xfe80 // link-local, fe80::/10
            }
        },
    }
}

fn local_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local()
}

/// Addresses no connection should go to, whatever the reach: unspecified
/// (which Linux takes as this machine), multicast and broadcast.
fn unusable(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_multicast(),
    }
}

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Off the local network, at [`Reach::Local`].
    Public,
    /// No address to connect to at any reach.
    Unusable,
}

impl Refused {
    fn error(self, host: &str, addr: IpAddr) -> EgressError {
        let host = host.to_owned();
        match self {
            Refused::Public => EgressError::Public { host, addr },
            Refused::Unusable => EgressError::Unusable { host, addr },
        }
    }
}

/// Whether a connection to `ip` is allowed at `reach` (pure).
pub fn allowed(ip: IpAddr, reach: Reach) -> Result<(), Refused> {
    if unusable(ip) {
        return Err(Refused::Unusable);
    }
    if reach == Reach::Local && !is_local(ip) {
        return Err(Refused::Public);
    }
    Ok(())
}

/// Refusals already logged, by host and address.
static LOGGED: LazyLock<Mutex<HashSet<(String, IpAddr)>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

fn log_once(host: &str, e: &EgressError) {
    let (EgressError::Public { addr, .. } | EgressError::Unusable { addr, .. }) = e else {
        return;
    };
    let fresh = LOGGED
        .lock()
        .map(|mut l| l.insert((host.to_owned(), *addr)))
        .unwrap_or(true);
    if fresh {
        tracing::warn!("outbound connection refused: {e}");
    }
}

/// Keeps the addresses of `addrs` that `reach` allows, in order; when none is
/// allowed, the refusal of the first.
fn checked(
    host: &str,
    addrs: Vec<SocketAddr>,
    reach: Reach,
) -> Result<Vec<SocketAddr>, EgressError> {
    let mut refusal = None;
    let mut ok = Vec::new();
    for a in addrs {
        match allowed(a.ip(), reach) {
            Ok(()) => ok.push(a),
            Err(why) => {
                let e = why.error(host, a.ip());
                log_once(host, &e);
                refusal.get_or_insert(e);
            }
        }
    }
    if ok.is_empty() {
        return Err(refusal.unwrap_or_else(|| EgressError::NoAddress {
            host: host.to_owned(),
        }));
    }
    Ok(ok)
}

/// The allowed addresses of `host:port`, resolved now. Blocking (the system
/// resolver): call it off the async runtime, or use [`resolve`].
pub fn resolve_blocking(
    host: &str,
    port: u16,
    reach: Reach,
) -> Result<Vec<SocketAddr>, EgressError> {
    // A bracketed IPv6 literal, as URLs write it.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (bare, port)
            .to_socket_addrs()
            .map_err(|source| EgressError::Resolve {
                host: host.to_owned(),
                source,
            })?
            .collect(),
    };
    checked(host, addrs, reach)
}

/// [`resolve_blocking`] off the async runtime.
pub async fn resolve(host: &str, port: u16, reach: Reach) -> Result<Vec<SocketAddr>, EgressError> {
    let h = host.to_owned();
    tokio::task::spawn_blocking(move || resolve_blocking(&h, port, reach))
        .await
        .unwrap_or_else(|e| {
            Err(EgressError::Resolve {
                host: host.to_owned(),
                source: std::io::Error::other(e),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_local_network_is_told_from_the_internet() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "172.31.255.1",
            "192.168.1.20",
            "169.254.3.4",
            "::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:192.168.0.2",
        ] {
            assert!(is_local(ip(a)), "{a}");
            assert!(allowed(ip(a), Reach::Local).is_ok(), "{a}");
        }
        for a in [
            "8.8.8.8",
            "172.32.0.1",
            "100.64.0.1",
            "203.0.113.5",
            "2001:db8::1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(!is_local(ip(a)), "{a}");
            assert!(allowed(ip(a), Reach::Local).is_err(), "{a}");
            assert!(allowed(ip(a), Reach::Internet).is_ok(), "{a}");
        }
        for a in [
            "0.0.0.0",
            "::",
            "239.255.255.250",
            "255.255.255.255",
            "ff02::1",
            "::ffff:0.0.0.0",
        ] {
            assert!(allowed(ip(a), Reach::Internet).is_err(), "{a}");
        }
    }

    #[test]
    fn a_name_is_checked_by_every_address_it_gives() {
        let r = checked(
            "cam",
            vec![
                "8.8.8.8:554".parse().unwrap(),
                "192.168.1.5:554".parse().unwrap(),
            ],
            Reach::Local,
        )
        .unwrap();
        assert_eq!(r, vec!["192.168.1.5:554".parse().unwrap()]);
        let e = checked("cam", vec!["8.8.8.8:554".parse().unwrap()], Reach::Local).unwrap_err();
        assert!(
            e.to_string()
                .contains("cam is at 8.8.8.8, outside the local network"),
            "{e}"
        );
        assert!(resolve_blocking("localhost", 80, Reach::Local).is_ok());
        assert!(resolve_blocking("[::1]", 80, Reach::Local).is_ok());
        assert!(resolve_blocking("198.51.100.7", 80, Reach::Local).is_err());
    }
}
