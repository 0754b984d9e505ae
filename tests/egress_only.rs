//! Nothing in Hearth opens an outbound connection except through `src/egress/`:
//! outside it (and outside test code and the simulated camera's server, which
//! only listens), no source names a way to connect, resolve a name, or hand a
//! URL to a client that would resolve it itself. A new way out has to be added
//! to the guard, where its destinations are checked.

use std::path::{Path, PathBuf};

/// What opens a socket, resolves a name or makes a client that would.
const WAYS_OUT: &[&str] = &[
    "TcpStream::connect",
    "TcpSocket",
    "UdpSocket",
    "UnixStream::connect",
    "socket2",
    "lookup_host",
    "to_socket_addrs",
    "getaddrinfo",
    "Session::describe",
    "ureq::",
    "reqwest",
    "hyper::client",
    "hyper_util::client",
    "MqttOptions::",
    "Command::new",
];

/// Listening only, never connecting out.
const EXEMPT: &[&str] = &["src/egress/", "src/fakecam/server.rs"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src readable") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source without its `#[cfg(test)]` module (which comes last in a file).
fn shipped(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// Every way out named outside the guard, as `file:line: text`.
fn ways_out(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        if EXEMPT.iter().any(|x| rel.starts_with(x)) {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("source readable");
        for (n, line) in shipped(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(w) = WAYS_OUT.iter().find(|w| code.contains(*w)) {
                found.push(format!("{rel}:{}: {w} in `{}`", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn every_outbound_connection_goes_through_the_guard() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = ways_out(root);
    assert!(
        found.is_empty(),
        "outbound connections outside src/egress/ (add them to the guard):\n{}",
        found.join("\n")
    );
    // The guard itself is where the ways out are.
    let guard = std::fs::read_to_string(root.join("src/egress/rtsp.rs")).expect("guard");
    assert!(guard.contains("Session::describe"));
}

#[test]
fn the_check_finds_a_way_out_when_there_is_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src/alerts");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(
        src.join("sneaky.rs"),
        "//! A sneaky module.\n// TcpStream::connect in a comment is fine\n\
         fn f() { let _ = std::net::TcpStream::connect(\"8.8.8.8:80\"); }\n\
         #[cfg(test)]\nmod tests { fn g() { let _ = ureq::get(\"x\"); } }\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("src/egress")).expect("mkdir");
    std::fs::write(
        dir.path().join("src/egress/ok.rs"),
        "fn f() { ureq::get(\"x\"); }\n",
    )
    .expect("write");
    let found = ways_out(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("src/alerts/sneaky.rs:3: TcpStream::connect"),
        "{found:?}"
    );
}
