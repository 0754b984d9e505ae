//! Playback over HTTP reuses its plan across a player's Range requests: a seek
//! into a long range opens no segment file it does not serve (seen in a real
//! `strace` of the server), and answers carry an ETag that `If-Range` checks.

mod common;

use common::http::Client;
use common::*;

#[test]
fn range_requests_reuse_the_plan_and_if_range_checks_its_etag() {
    let port = free_port();
    let _cam = fake_camera(port, None);
    let web = free_port();
    let mut nvr = Nvr::one(
        &format!(
            "segment_duration = \"2s\"\nmin_free = \"1MB\"\n[server]\nlisten = \"127.0.0.1:{web}\"\ntls = \"off\""
        ),
        "porch",
        format!("rtsp://127.0.0.1:{port}/main"),
        None,
    );
    nvr.add_user("ann", "admin", "", "ann-password-1");
    let trace = nvr.start_traced("openat");
    let url = nvr.web_url();
    sleep_s(18);
    let done: Vec<_> = nvr
        .segments()
        .into_iter()
        .filter(|s| s.state == hearth::store::SegmentState::Complete)
        .collect();
    assert!(done.len() >= 3, "{} segments", done.len());
    let time = |us: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
            .expect("time")
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    let last = done.last().expect("segments");
    let q = format!(
        "/api/cameras/porch/view.mp4?from={}&to={}",
        time(done[0].start_us),
        time(last.end_us())
    )
    .replace('+', "%2B");
    let mut c = Client::new(&url);
    assert_eq!(c.login("ann", "ann-password-1").status, 200);
    // Opens of the files this range plays, so far.
    let opens = || {
        let text = read_trace(&trace);
        text.lines()
            .filter(|l| l.contains("openat(") && !l.contains("O_CREAT"))
            .filter(|l| done.iter().any(|s| l.contains(&format!("{}\"", s.path))))
            .count()
    };

    let full = c.get(&q);
    assert_eq!(full.status, 200, "{}", full.text());
    let tag = full.header("etag").expect("an ETag").to_owned();
    let after_first = opens();
    assert!(after_first >= done.len(), "planning read every segment");

    // A seek to the start (bytes the plan holds in memory): no file opened.
    let part = c.get_with(&q, &[("range", "bytes=0-99"), ("if-range", &tag)]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, full.body[..100]);
    assert_eq!(part.header("etag"), Some(tag.as_str()));
    assert_eq!(opens(), after_first, "the second request planned again");

    // A seek to the end reads only the last segment's file.
    let n = full.body.len();
    let end = c.get_with(&q, &[("range", &format!("bytes={}-", n - 1000))]);
    assert_eq!(end.status, 206);
    assert_eq!(end.body, full.body[n - 1000..]);
    assert_eq!(opens(), after_first + 1);

    // An If-Range for other bytes than these gets them whole.
    let stale = c.get_with(&q, &[("range", "bytes=0-99"), ("if-range", "\"0123\"")]);
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body.len(), n);
    nvr.stop();
}
