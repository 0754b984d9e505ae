//! ONVIF's messages as text (pure): the WS-Discovery probe and what answers it,
//! and the device and media requests a camera's stream URLs come from
//! (GetCapabilities, GetProfiles, GetStreamUri) with the WS-Security user
//! token they need, and the answers read back. Elements are matched by local
//! name: cameras disagree on namespace prefixes, never on names.

use base64::Engine;
use sha1::{Digest, Sha1};

pub const DISCOVERY_ACTION: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe";

/// Text put between tags or in an attribute.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The multicast probe for video transmitters, with its message id.
pub fn probe(message_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" \
xmlns:w=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" \
xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" \
xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\">\
<e:Header><w:MessageID>uuid:{id}</w:MessageID>\
<w:To e:mustUnderstand=\"true\">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>\
<w:Action e:mustUnderstand=\"true\">{DISCOVERY_ACTION}</w:Action></e:Header>\
<e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>",
        id = escape(message_id)
    )
}

/// A device that answered a probe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Match {
    /// Its device service URLs.
    pub xaddrs: Vec<String>,
    /// The name and hardware its scopes give, when they do.
    pub name: Option<String>,
    pub hardware: Option<String>,
}

fn local<'a>(doc: &'a roxmltree::Document<'_>, name: &str) -> Option<roxmltree::Node<'a, 'a>> {
    doc.descendants().find(|n| n.tag_name().name() == name)
}

fn child_text(n: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    n.descendants()
        .find(|c| c.tag_name().name() == name)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_owned())
}

/// The scope value after `onvif://www.onvif.org/{what}/`, URL-decoded.
fn scope(scopes: &str, what: &str) -> Option<String> {
    let prefix = format!("onvif://www.onvif.org/{what}/");
    scopes.split_whitespace().find_map(|s| {
        let v = s.strip_prefix(&prefix)?;
        Some(
            url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map_or_else(|| v.to_owned(), |(_, v)| v.into_owned()),
        )
    })
}

/// The devices a probe answer lists, when it answers `message_id`.
pub fn probe_matches(xml: &str, message_id: &str) -> Vec<Match> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Vec::new();
    };
    let relates = local(&doc, "RelatesTo")
        .and_then(|n| n.text())
        .map(str::trim);
    if relates != Some(&format!("uuid:{message_id}")) {
        return Vec::new();
    }
    doc.descendants()
        .filter(|n| n.tag_name().name() == "ProbeMatch")
        .map(|m| {
            let scopes = child_text(m, "Scopes").unwrap_or_default();
            Match {
                xaddrs: child_text(m, "XAddrs")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                name: scope(&scopes, "name"),
                hardware: scope(&scopes, "hardware"),
            }
        })
        .filter(|m| !m.xaddrs.is_empty())
        .collect()
}

/// WS-Security's password digest: base64(SHA-1(nonce + created + password)).
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(created.as_bytes());
    h.update(password.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Who a request is made as: user, password, and the token's nonce and time.
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub nonce: [u8; 16],
    /// `YYYY-MM-DDTHH:MM:SSZ`
    pub created: String,
}

/// A SOAP 1.2 request with `body`, signed with `creds` when there are some.
pub fn request(body: &str, creds: Option<&Credentials<'_>>) -> String {
    let header = creds.map_or_else(String::new, |c| {
        let b64 = base64::engine::general_purpose::STANDARD;
        format!(
            "<s:Header><Security s:mustUnderstand=\"1\" \
xmlns=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">\
<UsernameToken><Username>{user}</Username>\
<Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">{digest}</Password>\
<Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary\">{nonce}</Nonce>\
<Created xmlns=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">{created}</Created>\
</UsernameToken></Security></s:Header>",
            user = escape(c.username),
            digest = password_digest(&c.nonce, &c.created, c.password),
            nonce = b64.encode(c.nonce),
            created = escape(&c.created),
        )
    });
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">{header}<s:Body>{body}</s:Body></s:Envelope>"
    )
}

pub const GET_CAPABILITIES: &str = "<GetCapabilities xmlns=\"http://www.onvif.org/ver10/device/wsdl\">\
<Category>Media</Category></GetCapabilities>";
pub const GET_PROFILES: &str = "<GetProfiles xmlns=\"http://www.onvif.org/ver10/media/wsdl\"/>";

pub fn get_stream_uri(profile: &str) -> String {
    format!(
        "<GetStreamUri xmlns=\"http://www.onvif.org/ver10/media/wsdl\"><StreamSetup>\
<Stream xmlns=\"http://www.onvif.org/ver10/schema\">RTP-Unicast</Stream>\
<Transport xmlns=\"http://www.onvif.org/ver10/schema\"><Protocol>RTSP</Protocol></Transport>\
</StreamSetup><ProfileToken>{}</ProfileToken></GetStreamUri>",
        escape(profile)
    )
}

/// What an answer says: its document, or the fault's reason in words.
fn answer(xml: &str) -> Result<roxmltree::Document<'_>, String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("the device's answer is not XML: {e}"))?;
    if let Some(f) = local(&doc, "Fault") {
        let reason = child_text(f, "Text")
            .or_else(|| child_text(f, "faultstring"))
            .unwrap_or_else(|| "no reason given".into());
        let refused = f
            .descendants()
            .filter(|n| n.tag_name().name() == "Value")
            .filter_map(|n| n.text())
            .any(|code| code.contains("NotAuthorized"));
        return Err(if refused || reason.to_lowercase().contains("authori") {
            format!("the device refused the user name or password ({reason})")
        } else {
            format!("the device answered with a fault: {reason}")
        });
    }
    Ok(doc)
}

/// The media service's address from GetCapabilities.
pub fn media_address(xml: &str) -> Result<String, String> {
    let doc = answer(xml)?;
    let media = local(&doc, "Media").ok_or("the device has no media service")?;
    child_text(media, "XAddr").ok_or_else(|| "the device names no media service address".into())
}

/// A media profile: a stream the device offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Profile {
    pub token: String,
    pub name: String,
    pub encoding: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

pub fn profiles(xml: &str) -> Result<Vec<Profile>, String> {
    let doc = answer(xml)?;
    Ok(doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Profiles")
        .filter_map(|p| {
            let token = p.attribute("token")?.to_owned();
            let video = p
                .children()
                .find(|c| c.tag_name().name() == "VideoEncoderConfiguration");
            let size = |what| {
                video
                    .and_then(|v| child_text(v, what))
                    .and_then(|t| t.parse().ok())
            };
            Some(Profile {
                name: p
                    .children()
                    .find(|c| c.tag_name().name() == "Name")
                    .and_then(|n| n.text())
                    .map_or_else(|| token.clone(), |t| t.trim().to_owned()),
                encoding: video.and_then(|v| child_text(v, "Encoding")),
                width: size("Width"),
                height: size("Height"),
                token,
            })
        })
        .collect())
}

/// The RTSP URL from GetStreamUri.
pub fn stream_uri(xml: &str) -> Result<String, String> {
    let doc = answer(xml)?;
    let uri = local(&doc, "MediaUri").ok_or("the device gave no stream address")?;
    child_text(uri, "Uri").ok_or_else(|| "the device gave no stream address".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_answer_lists_its_devices_only_for_our_probe() {
        let xml = r#"<?xml version="1.0"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
<env:Header><wsa:RelatesTo>uuid:abc</wsa:RelatesTo></env:Header>
<env:Body><d:ProbeMatches><d:ProbeMatch>
<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Porch%20Cam onvif://www.onvif.org/hardware/IPC-1</d:Scopes>
<d:XAddrs>http://192.168.1.20/onvif/device_service http://[fe80::1]/onvif/device_service</d:XAddrs>
</d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>"#;
        let m = probe_matches(xml, "abc");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].xaddrs[0], "http://192.168.1.20/onvif/device_service");
        assert_eq!(m[0].name.as_deref(), Some("Porch Cam"));
        assert_eq!(m[0].hardware.as_deref(), Some("IPC-1"));
        assert!(probe_matches(xml, "other").is_empty());
        assert!(probe_matches("<not xml", "abc").is_empty());
        assert!(probe("abc").contains("<w:MessageID>uuid:abc</w:MessageID>"));
    }

    #[test]
    fn the_password_digest_is_ws_securitys() {
        // SHA-1 over nonce, created and password, as the profile defines it.
        let d = password_digest(b"0123456789abcdef", "2026-01-01T00:00:00Z", "pw");
        let mut h = Sha1::new();
        h.update(b"0123456789abcdef2026-01-01T00:00:00Zpw");
        assert_eq!(
            d,
            base64::engine::general_purpose::STANDARD.encode(h.finalize())
        );
        let c = Credentials {
            username: "a<b",
            password: "pw",
            nonce: *b"0123456789abcdef",
            created: "2026-01-01T00:00:00Z".into(),
        };
        let r = request(GET_PROFILES, Some(&c));
        assert!(r.contains("<Username>a&lt;b</Username>") && r.contains(&d) && !r.contains(">pw<"));
    }

    #[test]
    fn profiles_stream_uris_and_faults_are_read() {
        let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body><trt:GetProfilesResponse>
<trt:Profiles token="main" fixed="true"><tt:Name>MainStream</tt:Name><tt:VideoEncoderConfiguration token="v0"><tt:Name>v</tt:Name><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>
<trt:Profiles token="sub"><tt:Name>SubStream</tt:Name></trt:Profiles>
</trt:GetProfilesResponse></s:Body></s:Envelope>"#;
        let p = profiles(xml).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].token.as_str(), p[0].name.as_str()),
            ("main", "MainStream")
        );
        assert_eq!(
            (p[0].width, p[0].height, p[0].encoding.as_deref()),
            (Some(1920), Some(1080), Some("H264"))
        );
        assert_eq!((p[1].width, p[1].encoding.as_deref()), (None, None));
        let uri = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetStreamUriResponse><MediaUri><Uri>rtsp://192.168.1.20:554/main</Uri></MediaUri></GetStreamUriResponse></s:Body></s:Envelope>"#;
        assert_eq!(stream_uri(uri).unwrap(), "rtsp://192.168.1.20:554/main");
        let fault = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;
        assert!(
            stream_uri(fault)
                .unwrap_err()
                .contains("user name or password")
        );
        let caps = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetCapabilitiesResponse><Capabilities><Media><XAddr>http://192.168.1.20/onvif/media</XAddr></Media></Capabilities></GetCapabilitiesResponse></s:Body></s:Envelope>"#;
        assert_eq!(
            media_address(caps).unwrap(),
            "http://192.168.1.20/onvif/media"
        );
    }
}
