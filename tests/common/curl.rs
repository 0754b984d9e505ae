//! curl (Debian's, built with nghttp2) for what the ureq client cannot do:
//! HTTP/2 over cleartext (h2c) and TLS with ALPN h2, and a chosen source address.

#![allow(dead_code)]

use std::process::Command;

pub struct CurlReply {
    pub status: u16,
    /// "1.1" or "2"
    pub version: String,
    /// The response head, lower-cased, and what curl said on stderr.
    pub head: String,
}

/// `curl ARGS URL`: the status, HTTP version and response head (body discarded).
pub fn curl(url: &str, args: &[&str]) -> CurlReply {
    let out = Command::new("curl")
        .args(["-sSk", "-o", "/dev/null", "-D", "-", "--max-time", "60"])
        .args(["-w", "\n%{http_code} %{http_version}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (status, version) = last.split_once(' ').unwrap_or(("0", ""));
    CurlReply {
        status: status.parse().unwrap_or(0),
        version: version.trim().to_owned(),
        head: format!(
            "{}{}",
            head.to_ascii_lowercase(),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
