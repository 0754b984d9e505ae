//! Encryption at rest, against real recordings of the simulated camera: sealed
//! files show no MP4 structure and ffprobe cannot read them; playback with
//! Range, export and `verify` work through them; a flipped byte is named by
//! `verify`; a torn sealed tail is recovered; without the key (or with another)
//! nothing starts or exports; and retention shreds a deleted file's key, so a
//! copy of the file saved before cannot be read.

mod common;

use common::http::Client;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn generate_key(path: &Path) {
    let out = Command::new(HEARTH)
        .args(["key", "generate", "-o"])
        .arg(path)
        .output()
        .expect("hearth key generate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// A camera recorded into sealed files: the key file sits beside the config.
fn sealed_nvr(port: u16, storage: &str) -> (Nvr, PathBuf) {
    sealed_nvr_with(port, storage, "")
}

fn sealed_nvr_with(port: u16, storage: &str, camera: &str) -> (Nvr, PathBuf) {
    let nvr = Nvr::new(
        &format!("encryption_key_file = \"master.key\"\nmin_free = \"1MB\"\n{storage}"),
        &[Cam {
            name: "den",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: camera,
        }],
    );
    let key = nvr.dir.path().join("master.key");
    generate_key(&key);
    (nvr, key)
}

fn ffprobe_fails(path: &Path) -> bool {
    !Command::new("ffprobe")
        .args(["-v", "error", "-show_streams"])
        .arg(path)
        .output()
        .expect("ffprobe")
        .status
        .success()
}

/// `hearth run` that is expected to refuse at once (killed after 60 s if not).
fn run_refused(nvr: &Nvr) -> (bool, String) {
    let out = Command::new("timeout")
        .args(["-s", "KILL", "60", HEARTH, "run", "--config"])
        .arg(&nvr.config)
        .output()
        .expect("hearth run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn complete(nvr: &Nvr) -> Vec<hearth::store::SegmentRow> {
    nvr.segments()
        .into_iter()
        .filter(|s| s.state == hearth::store::SegmentState::Complete)
        .collect()
}

#[test]
fn sealed_recordings_show_nothing_yet_play_seek_export_and_verify() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let (mut nvr, _key) = sealed_nvr_with(
        port,
        &format!(
            "segment_duration = \"2s\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        &format!("sub_url = \"rtsp://127.0.0.1:{port}/sub\""),
    );
    nvr.add_user("ann", "admin", "", "ann-password-1");
    nvr.start();
    let url = nvr.web_url();
    // The simulated camera's loop: 12 s still, 8 s of motion, an event at its end.
    sleep_s(26);
    let done = complete(&nvr);
    assert!(done.len() >= 3, "{} segments", done.len());

    // On disk: sealed, no MP4 boxes, unreadable to ffprobe.
    for s in &done {
        let path = nvr.data().join(&s.path);
        let raw = std::fs::read(&path).expect("segment");
        assert!(raw.starts_with(b"HRTHSEAL"), "{}", s.path);
        for boxname in [b"ftyp", b"moov", b"moof", b"mdat", b"avcC"] {
            assert!(
                !raw.windows(4).any(|w| w == boxname),
                "{}: {boxname:?}",
                s.path
            );
        }
        assert!(ffprobe_fails(&path), "ffprobe read {}", s.path);
    }

    // Playback through the web: whole, and random Range requests that return
    // exactly the whole answer's bytes.
    let (from, to) = (done[0].start_us, done[done.len() - 1].end_us());
    let q = format!(
        "/api/cameras/den/view.mp4?from={}&to={}",
        query_time(from),
        query_time(to)
    );
    let mut c = Client::new(&url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);
    let full = c.get(&q);
    assert_eq!(full.status, 200, "{}", full.text());
    let body = full.body.clone();
    let played = nvr.dir.path().join("played.mp4");
    std::fs::write(&played, &body).expect("write");
    let frames: u64 = done.iter().map(|s| s.progress.frames).sum();
    assert_eq!(
        assert_decodes(&played) as u64,
        frames,
        "every recorded frame plays"
    );
    let mut seed = 0x9e37_79b9_u64;
    for _ in 0..40 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = (seed >> 20) as usize % body.len();
        let n = ((seed >> 40) as usize % 300_000).min(body.len() - a - 1) + 1;
        let r = c.get_with(&q, &[("range", &format!("bytes={a}-{}", a + n - 1))]);
        assert_eq!(r.status, 206);
        assert_eq!(r.body, body[a..a + n], "bytes {a}+{n}");
    }

    // The event's pictures: sealed in the index, JPEGs through the web.
    let now = chrono::Utc::now().timestamp_micros();
    let events = c
        .get(&format!(
            "/api/cameras/den/events?from={}&to={}",
            query_time(now - 120_000_000),
            query_time(now)
        ))
        .json();
    let id = events[0]["id"].as_i64().expect("an event");
    let store = hearth::store::Store::open(&nvr.data().join("hearth.db")).expect("index");
    for (thumb, name) in [(false, "snapshot.jpg"), (true, "thumb.jpg")] {
        let kept = store
            .event_picture("den", id, thumb)
            .expect("query")
            .expect("a picture");
        assert!(
            kept.starts_with(b"HRTHSEAL"),
            "{name} is sealed in the index"
        );
        let r = c.get(&format!("/api/cameras/den/events/{id}/{name}"));
        assert_eq!(r.status, 200);
        assert_eq!(&r.body[..2], &[0xff, 0xd8], "{name}: a JPEG");
    }
    drop(store);
    nvr.stop();

    // The CLI export is the same bytes as the playback, and verify passes.
    let exported = nvr.export("den", from, to);
    assert_eq!(std::fs::read(&exported).expect("export"), body);
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");

    // One flipped byte in the middle of a file: verify names the file and chunk.
    let victim = nvr.data().join(&done[1].path);
    let mut raw = std::fs::read(&victim).expect("segment");
    let mid = raw.len() / 2;
    raw[mid] ^= 0x01;
    std::fs::write(&victim, &raw).expect("write");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(!ok, "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(&done[1].path) && l.contains("fails authentication")),
        "{out}"
    );
}

#[test]
fn without_its_key_hearth_refuses_to_start_or_export_and_says_why() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (mut nvr, key) = sealed_nvr(port, "segment_duration = \"2s\"");
    nvr.record_for(6);
    let segs = complete(&nvr);
    assert!(!segs.is_empty());
    let (from, to) = (segs[0].start_us, segs[segs.len() - 1].end_us());
    let export_args = |out: &str| {
        vec![
            "export".to_owned(),
            "--camera".into(),
            "den".into(),
            "--from".into(),
            rfc3339(from),
            "--to".into(),
            rfc3339(to),
            "-o".into(),
            out.into(),
        ]
    };
    let out_path = nvr.dir.path().join("x.mp4");
    let args = export_args(out_path.to_str().expect("path"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = std::fs::read_to_string(&nvr.config).expect("config");

    // No key configured.
    std::fs::write(
        &nvr.config,
        text.replace("encryption_key_file = \"master.key\"\n", ""),
    )
    .expect("config");
    let (ok, out) = run_refused(&nvr);
    assert!(!ok && out.contains("no key file is configured"), "{out}");
    let (ok, out) = nvr.cli(&args);
    assert!(!ok && out.contains("no key file is configured"), "{out}");
    assert!(!out_path.exists());

    // Another key.
    std::fs::write(&nvr.config, &text).expect("config");
    let real = std::fs::read(&key).expect("key");
    std::fs::remove_file(&key).expect("rm");
    generate_key(&key);
    let (ok, out) = run_refused(&nvr);
    assert!(!ok && out.contains("is not the key"), "{out}");
    let (ok, out) = nvr.cli(&args);
    assert!(!ok && out.contains("is not the key"), "{out}");

    // A key file others may read.
    std::fs::write(&key, &real).expect("key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (ok, out) = run_refused(&nvr);
    assert!(!ok && out.contains("chmod 600"), "{out}");

    // The right key again: the export is whole.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (ok, out) = nvr.cli(&args);
    assert!(ok, "{out}");
    assert_decodes(&out_path);
}

#[test]
fn a_torn_sealed_tail_is_cut_back_to_its_last_whole_fragment() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (mut nvr, _key) = sealed_nvr(port, "segment_duration = \"30s\"\nflush_interval = \"1s\"");
    nvr.start();
    sleep_s(7);
    nvr.kill9();
    let open: Vec<_> = nvr
        .segments()
        .into_iter()
        .filter(|s| s.state == hearth::store::SegmentState::Open)
        .collect();
    assert_eq!(open.len(), 1, "the killed segment is open");
    let indexed = open[0].progress.frames;
    assert!(indexed > 0);
    // Half a chunk more, as a power cut mid-write leaves it.
    let path = nvr.data().join(&open[0].path);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    std::io::Write::write_all(&mut f, &[0, 0, 0x40, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])
        .expect("append");
    drop(f);
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(!ok, "{out}");
    let (ok, out) = nvr.cli(&["verify", "--repair"]);
    assert!(ok, "{out}");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
    let seg = nvr
        .segments()
        .into_iter()
        .find(|s| s.path == open[0].path)
        .expect("kept");
    assert_eq!(seg.state, hearth::store::SegmentState::Complete);
    assert!(seg.progress.frames >= indexed, "nothing synced was lost");
    let exported = nvr.export("den", seg.start_us, seg.end_us());
    assert_eq!(assert_decodes(&exported) as u64, seg.progress.frames);
}

#[test]
fn retention_shreds_a_deleted_files_key_so_a_saved_copy_stays_unreadable() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let (mut nvr, _key) = sealed_nvr(
        port,
        "segment_duration = \"2s\"\nmax_bytes = \"1500kB\"\nretention_interval = \"1s\"",
    );
    nvr.start();
    let mut first = None;
    assert!(wait_until(std::time::Duration::from_secs(60), || {
        first = complete(&nvr).into_iter().next();
        first.is_some()
    }));
    let first = first.expect("a segment");
    let path = nvr.data().join(&first.path);
    let copy = std::fs::read(&path).expect("segment");
    let key_id = u64::from_be_bytes(copy[12..20].try_into().expect("header"));
    let store = hearth::store::Store::open(&nvr.data().join("hearth.db")).expect("index");
    let wrapped = store
        .data_key(key_id)
        .expect("query")
        .expect("its key is in the index");
    drop(store);
    assert!(
        wait_until(std::time::Duration::from_secs(90), || !path.exists()),
        "retention never deleted {}",
        first.path
    );
    sleep_s(2);
    nvr.stop();
    let store = hearth::store::Store::open(&nvr.data().join("hearth.db")).expect("index");
    assert_eq!(
        store.data_key(key_id).expect("query"),
        None,
        "the key is gone"
    );
    assert!(
        store.data_key_count().expect("count") > 0,
        "newer files keep theirs"
    );
    drop(store);
    for f in ["hearth.db", "hearth.db-wal"] {
        let bytes = std::fs::read(nvr.data().join(f)).unwrap_or_default();
        assert!(
            !bytes
                .windows(wrapped.len())
                .any(|w| w == wrapped.as_slice()),
            "{f} still holds the wrapped key"
        );
    }
    // The saved copy, put back: not readable, moved aside.
    std::fs::write(&path, &copy).expect("restore");
    let (_, out) = nvr.cli(&["verify", "--repair"]);
    assert!(
        out.contains(&format!("data key {key_id} is not in the index")),
        "{out}"
    );
    assert!(
        !path.exists() && path.with_extension("mp4.corrupt").exists(),
        "{out}"
    );
}

/// Playback of a range and `n` random Range requests into it, and the first
/// event's snapshot: what a viewer gets of that footage.
fn viewed(url: &str, from: i64, to: i64, n: usize) -> (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
    let mut c = Client::new(url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);
    let q = format!(
        "/api/cameras/den/view.mp4?from={}&to={}",
        query_time(from),
        query_time(to)
    );
    let full = c.get(&q);
    assert_eq!(full.status, 200, "{}", full.text());
    let body = full.body;
    let mut seed = 0x51ed_2701_u64;
    let mut ranges = Vec::new();
    for _ in 0..n {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = (seed >> 20) as usize % body.len();
        let len = ((seed >> 40) as usize % 200_000).min(body.len() - a - 1) + 1;
        let r = c.get_with(&q, &[("range", &format!("bytes={a}-{}", a + len - 1))]);
        assert_eq!(r.status, 206);
        ranges.push(r.body);
    }
    let events = c
        .get(&format!(
            "/api/cameras/den/events?from={}&to={}",
            query_time(from),
            query_time(to)
        ))
        .json();
    let id = events[0]["id"].as_i64().expect("an event");
    let snap = c.get(&format!("/api/cameras/den/events/{id}/snapshot.jpg"));
    assert_eq!(snap.status, 200);
    (body, ranges, snap.body)
}

fn file_digests(nvr: &Nvr, segs: &[hearth::store::SegmentRow]) -> Vec<Vec<u8>> {
    use sha2::Digest;
    segs.iter()
        .map(|s| {
            sha2::Sha256::digest(std::fs::read(nvr.data().join(&s.path)).expect("read")).to_vec()
        })
        .collect()
}

#[test]
fn plain_footage_sealed_later_plays_the_same_bytes_and_rotation_rewrites_no_video() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::new(
        &format!(
            "segment_duration = \"2s\"\nmin_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        &[Cam {
            name: "den",
            url: format!("rtsp://127.0.0.1:{port}/main"),
            auth: None,
            extra: &format!("sub_url = \"rtsp://127.0.0.1:{port}/sub\""),
        }],
    );
    nvr.add_user("ann", "admin", "", "ann-password-1");
    nvr.record_for(26);
    let plain = complete(&nvr);
    let (from, to) = (plain[0].start_us, plain[plain.len() - 1].end_us());
    let before = viewed(&nvr.restart_web(), from, to, 30);
    nvr.stop();

    // Encryption on, history sealed.
    let key = nvr.dir.path().join("master.key");
    generate_key(&key);
    let text = std::fs::read_to_string(&nvr.config).expect("config");
    let sealed_text = text.replacen(
        "[storage]\n",
        "[storage]\nencryption_key_file = \"master.key\"\n",
        1,
    );
    std::fs::write(&nvr.config, &sealed_text).expect("config");
    let (ok, out) = nvr.cli(&["key", "encrypt-existing"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("events' pictures") && !out.contains(" 0 events"),
        "{out}"
    );
    for s in &plain {
        let raw = std::fs::read(nvr.data().join(&s.path)).expect("segment");
        assert!(raw.starts_with(b"HRTHSEAL"), "{} sealed", s.path);
    }
    let (ok, out) = nvr.cli(&["key", "encrypt-existing"]);
    assert!(
        ok && out.contains("sealed 0 segment files"),
        "nothing twice: {out}"
    );
    let after = viewed(&nvr.restart_web(), from, to, 30);
    nvr.stop();
    assert_eq!(after.0, before.0, "the whole range, byte for byte");
    assert_eq!(after.1, before.1, "every Range request, byte for byte");
    assert_eq!(after.2, before.2, "the event's snapshot");

    // Rotation: a new master key, the same video files.
    let digests = file_digests(&nvr, &plain);
    let new_key = nvr.dir.path().join("master-2.key");
    generate_key(&new_key);
    let (ok, out) = nvr.cli(&["key", "rotate", "--new", new_key.to_str().expect("path")]);
    assert!(ok, "{out}");
    assert_eq!(file_digests(&nvr, &plain), digests, "no footage rewritten");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(
        !ok && out.contains("is not the key"),
        "the old key opens nothing: {out}"
    );
    std::fs::write(
        &nvr.config,
        sealed_text.replace("master.key", "master-2.key"),
    )
    .expect("config");
    let (ok, out) = nvr.cli(&["verify"]);
    assert!(ok, "{out}");
    let exported = nvr.export("den", from, to);
    assert_eq!(std::fs::read(&exported).expect("export"), before.0);
}
