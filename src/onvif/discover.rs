//! Finding ONVIF cameras on the local network and asking one for its streams:
//! a WS-Discovery probe sent by multicast on chosen interfaces of this machine
//! (one hop: TTL 1), answers taken only from private, link-local or loopback
//! addresses, and a device's services asked only at the address that answered,
//! so nothing here reaches past the household's network or to a host a device
//! names for another. Blocking: run it off the async runtime.

use super::soap;
use crate::egress::{self, Reach};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), 3702);
/// One HTTP request to a device at most this long.
const REQUEST_TIME: Duration = Duration::from_secs(5);
/// An answer's size at most.
const MAX_ANSWER: u64 = 1 << 20;

/// A device that answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Device {
    /// The address it answered from; its services are asked there only.
    pub address: Ipv4Addr,
    pub service: String,
    pub name: Option<String>,
    pub hardware: Option<String>,
}

/// A stream a device offers, by its media profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stream {
    pub profile: String,
    pub encoding: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub url: String,
}

/// This machine's IPv4 addresses on interfaces that are up, loopback too.
pub fn interfaces() -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, which is walked read-only and freed once.
    unsafe {
        if libc::getifaddrs(&raw mut list) != 0 {
            return out;
        }
        let mut at = list;
        while let Some(ifa) = at.as_ref() {
            let up = ifa.ifa_flags & (libc::IFF_UP as libc::c_uint) != 0;
            if up
                && !ifa.ifa_addr.is_null()
                && i32::from((*ifa.ifa_addr).sa_family) == libc::AF_INET
            {
                let sin = &*ifa.ifa_addr.cast::<libc::sockaddr_in>();
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
            at = ifa.ifa_next;
        }
        libc::freeifaddrs(list);
    }
    out
}

/// Whether an address is in the household's reach: private, link-local or this machine.
fn at_home(ip: Ipv4Addr) -> bool {
    ip.is_private() || ip.is_link_local() || ip.is_loopback()
}

/// Sends a probe on each of `on` and gathers the answers for `wait`.
pub fn discover(on: &[Ipv4Addr], wait: Duration) -> std::io::Result<Vec<Device>> {
    let id = format!("{:032x}", rand::random::<u128>());
    let probe = soap::probe(&id);
    let mut sockets = Vec::new();
    for &ip in on {
        sockets.push(egress::multicast::send_one_hop(
            ip,
            GROUP,
            probe.as_bytes(),
        )?);
    }
    let mut found: Vec<Device> = Vec::new();
    let end = Instant::now() + wait;
    let mut buf = vec![0u8; 65_536];
    while Instant::now() < end {
        let mut idle = true;
        for s in &sockets {
            let Ok((n, SocketAddr::V4(from))) = s.recv_from(&mut buf) else {
                continue;
            };
            idle = false;
            let from = *from.ip();
            if !at_home(from) {
                tracing::info!(
                    "ONVIF discovery: ignored an answer from {from}, outside the local network"
                );
                continue;
            }
            let text = String::from_utf8_lossy(&buf[..n]);
            for m in soap::probe_matches(&text, &id) {
                // Only a service at the address that answered.
                let service = m.xaddrs.iter().find(|x| {
                    url::Url::parse(x).is_ok_and(|u| {
                        u.scheme() == "http" && u.host_str() == Some(&from.to_string())
                    })
                });
                match service {
                    Some(x) if !found.iter().any(|d| &d.service == x) => found.push(Device {
                        address: from,
                        service: x.clone(),
                        name: m.name,
                        hardware: m.hardware,
                    }),
                    Some(_) => {}
                    None => tracing::info!(
                        "ONVIF discovery: {from} names its service only at another address; left out"
                    ),
                }
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(found)
}

/// One SOAP call to `url` as `creds`.
fn call(url: &str, body: &str, user: &str, password: &str) -> Result<String, String> {
    let creds = (!user.is_empty()).then(|| soap::Credentials {
        username: user,
        password,
        nonce: rand::random(),
        created: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    });
    let mut r = egress::http::agent(Reach::Local, REQUEST_TIME)
        .post(url)
        .header("content-type", "application/soap+xml; charset=utf-8")
        .send(soap::request(body, creds.as_ref()))
        .map_err(|e| format!("no answer from {url}: {e}"))?;
    let status = r.status();
    let text = r
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()
        .map_err(|e| format!("the answer from {url} could not be read: {e}"))?;
    if status.is_redirection() {
        return Err(format!(
            "{url} redirects elsewhere ({status}); not followed"
        ));
    }
    if status == 401 && !text.contains("Fault") {
        return Err("the device refused the user name or password (401)".into());
    }
    Ok(text)
}

/// The address `text` names, when it is at `device`'s own address.
fn at_device(text: &str, device: Ipv4Addr, what: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(text)
        .map_err(|e| format!("the device's {what} address is not a URL: {e}"))?;
    if u.host_str() != Some(&device.to_string()) {
        return Err(format!(
            "the device names another host ({}) for its {what}; not followed",
            u.host_str().unwrap_or("")
        ));
    }
    Ok(u)
}

/// The streams `device` offers, asked as `user` (GetCapabilities, GetProfiles,
/// GetStreamUri), each URL on the device's own address and without credentials.
pub fn streams(device: &Device, user: &str, password: &str) -> Result<Vec<Stream>, String> {
    let caps = call(&device.service, soap::GET_CAPABILITIES, user, password)?;
    let media = at_device(
        &soap::media_address(&caps)?,
        device.address,
        "media service",
    )?;
    let profiles = soap::profiles(&call(media.as_str(), soap::GET_PROFILES, user, password)?)?;
    let mut out = Vec::new();
    for p in profiles {
        let text = call(
            media.as_str(),
            &soap::get_stream_uri(&p.token),
            user,
            password,
        )?;
        let mut url = at_device(&soap::stream_uri(&text)?, device.address, "stream")?;
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let url = crate::config::camera_url(url.as_str())
            .map_err(|e| format!("profile {}: {e}", p.name))?;
        out.push(Stream {
            profile: p.name,
            encoding: p.encoding,
            width: p.width,
            height: p.height,
            url: url.to_string(),
        });
    }
    // The largest picture first: the main stream; then the sub.
    out.sort_by_key(|s| std::cmp::Reverse(s.width.unwrap_or(0) * s.height.unwrap_or(0)));
    Ok(out)
}
