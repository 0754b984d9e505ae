//! Connections that stay on this machine: `hearth status` asking the running
//! Hearth through the Unix socket in its data directory.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// The running Hearth's state (JSON text) from its socket at `path`.
pub fn ask_status(path: &Path) -> std::io::Result<String> {
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text)
}
