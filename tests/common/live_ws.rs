//! A live view's WebSocket as a browser opens it: the session's cookie and the
//! site's origin (tungstenite, a real client).

#![allow(dead_code)]

use std::net::TcpStream;
use std::time::Duration;
use tungstenite::{WebSocket, client::IntoClientRequest};

pub type Live = WebSocket<TcpStream>;

/// Starts the WebSocket handshake for `camera`'s live view (`query` appended, as
/// `?stream=main`) at `base` (`http://host:port/`) with the session `cookie`.
pub fn handshake(
    base: &str,
    cookie: &str,
    camera: &str,
    query: &str,
) -> Result<Live, tungstenite::Error> {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut req = format!("ws://{host}/api/cameras/{camera}/live{query}")
        .into_client_request()
        .expect("request");
    let h = req.headers_mut();
    h.insert("cookie", cookie.parse().expect("cookie"));
    h.insert(
        "origin",
        base.trim_end_matches('/').parse().expect("origin"),
    );
    let tcp = TcpStream::connect(host).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    tungstenite::client(req, tcp)
        .map(|(ws, _)| ws)
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e,
            tungstenite::HandshakeError::Interrupted(_) => {
                tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into())
            }
        })
}
