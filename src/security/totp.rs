//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), the
//! authenticator-app second factor; recovery codes for a lost phone.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_S: i64 = 30;
/// Codes of the neighbouring steps are accepted too, for clock skew.
pub const SKEW_STEPS: i64 = 1;

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn base32(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn unbase32(s: &str) -> Option<Vec<u8>> {
    let (mut buf, mut bits, mut out) = (0u32, 0, Vec::new());
    for c in s.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = u32::try_from(B32.iter().position(|&x| x == c.to_ascii_uppercase())?).ok()?;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push(((buf >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// A new random secret, base32.
pub fn new_secret() -> String {
    let mut k = [0u8; 20];
    rand::fill(&mut k);
    base32(&k)
}

/// The code of time step `step` for a base32 secret.
pub fn code_at(secret: &str, step: i64) -> Option<String> {
    let key = unbase32(secret)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]) % 1_000_000;
    Some(format!("{n:06}"))
}

pub fn step_of(unix_s: i64) -> i64 {
    unix_s.div_euclid(STEP_S)
}

/// The step a code matches near `unix_s`, if it is right and newer than `last_step`
/// (a code is good once).
pub fn check(secret: &str, code: &str, unix_s: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    let now = step_of(unix_s);
    (now - SKEW_STEPS..=now + SKEW_STEPS)
        .filter(|s| last_step.is_none_or(|l| *s > l))
        .find(|&s| {
            code_at(secret, s)
                .is_some_and(|c| super::token::constant_time_eq(c.as_bytes(), code.as_bytes()))
        })
}

/// The `otpauth://` URI an authenticator app scans.
pub fn uri(secret: &str, user: &str) -> String {
    format!(
        "otpauth://totp/Hearth:{user}?secret={secret}&issuer=Hearth&algorithm=SHA1&digits=6&period=30"
    )
}

/// The URI as a QR code, SVG.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build(),
    )
}

/// Ten recovery codes, each good once: `xxxx-xxxx-xxxx`.
pub fn recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let p = super::token::random_password().to_lowercase();
            format!("{}-{}-{}", &p[0..4], &p[4..8], &p[8..12])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", 8 digits there;
        // the 6-digit codes are the last six.
        let secret = base32(b"12345678901234567890");
        assert_eq!(code_at(&secret, step_of(59)).unwrap(), "287082");
        assert_eq!(code_at(&secret, step_of(1111111109)).unwrap(), "081804");
        assert_eq!(code_at(&secret, step_of(2000000000)).unwrap(), "279037");
        assert_eq!(unbase32(&secret).unwrap(), b"12345678901234567890");
    }

    #[test]
    fn codes_are_good_once_and_near_now() {
        let s = new_secret();
        let t = 1_800_000_000;
        let c = code_at(&s, step_of(t)).unwrap();
        let step = check(&s, &c, t, None).expect("good");
        assert_eq!(check(&s, &c, t, Some(step)), None, "replay refused");
        assert!(check(&s, &c, t + 30, None).is_some(), "one step of skew");
        assert!(check(&s, &c, t + 120, None).is_none());
        assert!(check(&s, "000000x", t, None).is_none());
        assert!(qr_svg(&uri(&s, "ann")).unwrap().contains("<svg"));
    }
}
