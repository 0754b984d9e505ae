//! Multicast on the local network (ONVIF's WS-Discovery): a socket bound to one of
//! this machine's addresses that sends to a multicast group one hop away (TTL 1),
//! so the probe never passes a router.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};

/// A non-blocking socket on `interface` that has sent `payload` to `group`; its
/// answers are read from it.
pub fn send_one_hop(
    interface: Ipv4Addr,
    group: SocketAddrV4,
    payload: &[u8],
) -> std::io::Result<UdpSocket> {
    if !group.ip().is_multicast() {
        return Err(std::io::Error::other(format!(
            "{group} is not a multicast group"
        )));
    }
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    s.bind(&SocketAddr::from((interface, 0)).into())?;
    s.set_multicast_if_v4(&interface)?;
    s.set_multicast_ttl_v4(1)?;
    let s: UdpSocket = s.into();
    s.set_nonblocking(true)?;
    s.send_to(payload, group)?;
    Ok(s)
}
