//! Debian's mosquitto broker for the tests, on loopback with a password, and
//! `mosquitto_sub` recording every message it sees with its arrival time and
//! retain flag (payloads in hex, so pictures come through whole).

use super::{Proc, free_port, wait_until};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const USER: &str = "hearth";
pub const PASSWORD: &str = "broker-pass-1";

pub struct Broker {
    pub port: u16,
    pub dir: tempfile::TempDir,
    _proc: Proc,
}

/// One message as a subscriber saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Arrival, in seconds since 1970.
    pub at: f64,
    pub retained: bool,
    pub topic: String,
    /// The payload as text (lossy), and as it came.
    pub payload: String,
    pub bytes: Vec<u8>,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

impl Broker {
    /// Hearth's `[mqtt]` section for this broker, the password inline.
    pub fn hearth_section(&self) -> String {
        format!(
            "[mqtt]\nbroker = \"mqtt://127.0.0.1:{}\"\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n",
            self.port
        )
    }

    pub fn start() -> Broker {
        Broker::start_with("")
    }

    /// A broker that also takes TLS: `listener` is more of mosquitto's config
    /// (a second `listener` with its certificate files).
    pub fn start_with(listener: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let pw = dir.path().join("passwords");
        let ok = Command::new("mosquitto_passwd")
            .args(["-c", "-b"])
            .arg(&pw)
            .args([USER, PASSWORD])
            .stdout(Stdio::null())
            .status()
            .expect("mosquitto_passwd (Debian's mosquitto)");
        assert!(ok.success());
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
                 persistence false\nlog_dest stdout\nlog_type error\nlog_type warning\n\
                 log_type notice\nlog_type information\n{listener}",
                pw.display()
            ),
        )
        .expect("write mosquitto.conf");
        // mosquitto does not flush its log into a pipe: ready is when the port answers.
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .spawn()
            .expect("mosquitto (Debian's mosquitto)");
        let proc = Proc::new(child, "mosquitto");
        assert!(
            wait_until(Duration::from_secs(10), || {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            }),
            "mosquitto never listened on {port}"
        );
        Broker {
            port,
            dir,
            _proc: proc,
        }
    }

    /// `mosquitto_sub` on every topic, writing what it sees to a file.
    pub fn subscribe(&self) -> Sub {
        let file = self.dir.path().join(format!("sub-{}.txt", free_port()));
        let out = std::fs::File::create(&file).expect("sub file");
        let child = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-u",
                USER,
                "-P",
                PASSWORD,
                "-t",
                "#",
                "-F",
                "%U\t%r\t%t\t%x\n",
            ])
            .stdout(out)
            .spawn()
            .expect("mosquitto_sub");
        let sub = Sub {
            file,
            _proc: Proc::new(child, "mosquitto_sub"),
        };
        // Subscribed once a probe published now comes back.
        let probe = format!("hearth-test/probe/{}", free_port());
        assert!(
            wait_until(Duration::from_secs(10), || {
                self.publish(&probe, "probe");
                sub.on(&probe).iter().any(|s| s.payload == "probe")
            }),
            "mosquitto_sub never subscribed"
        );
        sub
    }

    /// Publishes one message with `mosquitto_pub`.
    pub fn publish(&self, topic: &str, payload: &str) {
        let ok = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-u", USER, "-P", PASSWORD, "-t", topic, "-m", payload])
            .status()
            .expect("mosquitto_pub");
        assert!(ok.success());
    }
}

pub struct Sub {
    file: PathBuf,
    _proc: Proc,
}

impl Sub {
    pub fn seen(&self) -> Vec<Seen> {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut f = l.splitn(4, '\t');
                let (at, retained, topic) = (
                    f.next()?.parse().ok()?,
                    f.next()? == "1",
                    f.next()?.to_owned(),
                );
                let bytes = unhex(f.next().unwrap_or(""));
                Some(Seen {
                    at,
                    retained,
                    topic,
                    payload: String::from_utf8_lossy(&bytes).into_owned(),
                    bytes,
                })
            })
            .collect()
    }

    pub fn on(&self, topic: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.topic == topic)
            .collect()
    }

    /// Waits until a message on `topic` with `payload` has come, at most `limit`.
    pub fn wait_for(&self, limit: Duration, topic: &str, payload: &str) -> bool {
        wait_until(limit, || {
            self.on(topic).iter().any(|s| s.payload == payload)
        })
    }
}
