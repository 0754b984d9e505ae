//! `hearth status`'s answer: a Unix socket in the data directory (`hearth.sock`,
//! this account's only) where the running Hearth says, as one JSON document, how
//! it is: its version and uptime, each camera's privacy and recording switches,
//! each stream's connection, rates, reconnects, last error and what its
//! recorder and detector have done. Nothing is read from the socket, so nothing
//! sent to it can change anything.

use crate::ingest::health::Meters;
use crate::web::state::Running;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

pub const SOCKET: &str = "hearth.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// The state as `hearth status` prints it.
pub fn report(running: &Running, up_s: u64) -> Value {
    let cameras: Vec<Value> = running
        .cfg
        .cameras
        .iter()
        .map(|c| {
            let streams: Vec<Value> = running
                .health
                .iter()
                .filter(|((cam, _), _)| *cam == c.name)
                .map(|((_, kind), h)| {
                    let s = h.snapshot();
                    let m = &h.meters;
                    json!({
                        "stream": kind.as_str(),
                        "connected": s.connected_since.is_some(),
                        "fps": (s.fps * 10.0).round() / 10.0,
                        "bitrate_bps": s.bitrate_bps.round(),
                        "frames": s.frames,
                        "reconnects": s.reconnects,
                        "last_error": s.last_error,
                        "recorded_frames": Meters::get(&m.recorded_frames),
                        "dropped_frames": Meters::get(&m.dropped_frames),
                        "failed_frames": Meters::get(&m.failed_frames),
                        "analysed_pictures": Meters::get(&m.analysed_pictures),
                        "events": Meters::get(&m.events),
                        "hardware_decoding": Meters::get(&m.hardware_decoding) == 1,
                    })
                })
                .collect();
            json!({
                "name": c.name,
                "record": format!("{:?}", c.record).to_lowercase(),
                "private": running.private.get(&c.name),
                "recording_off": running.recording_off.get(&c.name),
                "streams": streams,
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": up_s,
        "data_dir": running.cfg.storage.data_dir,
        "cameras": cameras,
    })
}

/// Serves the state at `path` until `shutdown`; the socket file goes with it.
pub fn spawn(
    path: PathBuf,
    running: watch::Receiver<Arc<Running>>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    // Only one Hearth holds the data directory, so a socket file left here is
    // a crashed run's.
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // The process's umask (077) keeps the socket this account's only.
    let listener = tokio::net::UnixListener::bind(&path)?;
    let started = Instant::now();
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                conn = listener.accept() => {
                    let Ok((mut sock, _)) = conn else { continue };
                    let state = running.borrow().clone();
                    let text = report(&state, started.elapsed().as_secs()).to_string() + "\n";
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(5),
                            sock.write_all(text.as_bytes()),
                        )
                        .await;
                    });
                }
                _ = shutdown.wait_for(|&s| s) => break,
            }
        }
        let _ = std::fs::remove_file(&path);
    }))
}
