//! The configuration reference stays true: every key the parser takes, table by
//! table, is in `docs/configuration.md` and in `config.example.toml` (set or
//! commented out), and neither names a key the parser does not take. The
//! parser's keys come from the parser itself: an unknown key in a table is
//! refused with the list of the keys it expects.

use hearth::config::Config;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Keys = BTreeMap<String, BTreeSet<String>>;

/// The tables, and a config holding `zz_unknown = 1` in each.
fn probes() -> Vec<(&'static str, String)> {
    let cam =
        "[storage]\ndata_dir = \"d\"\n\n[[cameras]]\nname = \"a\"\nurl = \"rtsp://10.0.0.1/\"\n";
    vec![
        ("", "zz_unknown = 1\n[storage]\ndata_dir = \"d\"\n".into()),
        (
            "storage",
            "[storage]\ndata_dir = \"d\"\nzz_unknown = 1\n".into(),
        ),
        (
            "server",
            "[storage]\ndata_dir = \"d\"\n[server]\nzz_unknown = 1\n".into(),
        ),
        ("cameras", format!("{cam}zz_unknown = 1\n")),
        (
            "cameras.motion",
            format!("{cam}[cameras.motion]\nzz_unknown = 1\n"),
        ),
        (
            "cameras.motion.zones",
            format!("{cam}[[cameras.motion.zones]]\nzz_unknown = 1\n"),
        ),
        (
            "cameras.alerts",
            format!("{cam}[cameras.alerts]\nzz_unknown = 1\n"),
        ),
        (
            "mqtt",
            "[storage]\ndata_dir = \"d\"\n[mqtt]\nzz_unknown = 1\n".into(),
        ),
        (
            "alerts",
            "[storage]\ndata_dir = \"d\"\n[alerts]\nzz_unknown = 1\n".into(),
        ),
        (
            "webhooks",
            "[storage]\ndata_dir = \"d\"\n[[webhooks]]\nzz_unknown = 1\n".into(),
        ),
        (
            "push",
            "[storage]\ndata_dir = \"d\"\n[[push]]\nzz_unknown = 1\n".into(),
        ),
    ]
}

/// Each table's keys as the parser says them (sub-tables are keys too, as the
/// file writes them: `motion` in `cameras`; they are left out here).
fn parser_keys() -> Keys {
    let tables: BTreeSet<&str> = probes().iter().map(|(t, _)| *t).collect();
    let mut out = Keys::new();
    for (table, text) in probes() {
        let e = Config::parse(&text, Path::new("/probe.toml"))
            .err()
            .unwrap_or_else(|| panic!("[{table}] took an unknown key"))
            .to_string();
        let expected = e
            .split("expected ")
            .nth(1)
            .unwrap_or_else(|| panic!("[{table}]: no list of keys in {e:?}"));
        let keys: BTreeSet<String> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|k| {
                let full = if table.is_empty() {
                    (*k).to_owned()
                } else {
                    format!("{table}.{k}")
                };
                !tables.contains(full.as_str())
            })
            .map(str::to_owned)
            .collect();
        assert!(!keys.is_empty() || table.is_empty(), "[{table}]: {e}");
        out.insert(table.to_owned(), keys);
    }
    out.remove("");
    out
}

/// The keys a TOML-like text names per table, headers and key lines alike
/// whether commented out or not (`# key = …` counts).
fn file_keys(text: &str) -> Keys {
    let mut out = Keys::new();
    let mut table = String::new();
    for line in text.lines() {
        let l = line.trim_start_matches('#').trim();
        if let Some(h) = l.strip_prefix('[') {
            let h = h.trim_start_matches('[');
            if let Some(end) = h.find(']') {
                table = h[..end].to_owned();
                out.entry(table.clone()).or_default();
                continue;
            }
        }
        if let Some((k, _)) = l.split_once(" = ") {
            if !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                out.entry(table.clone()).or_default().insert(k.to_owned());
            }
        }
    }
    out
}

/// The keys the reference lists: under each `## [table]` heading, each row
/// starting with a backticked key.
fn doc_keys(text: &str) -> Keys {
    let mut out = Keys::new();
    let mut table: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## `[") {
            let h = h.trim_start_matches('[');
            table = h.find(']').map(|e| h[..e].to_owned());
            if let Some(t) = &table {
                out.entry(t.clone()).or_default();
            }
        } else if let (Some(t), Some(row)) = (&table, line.strip_prefix("| `")) {
            if let Some(end) = row.find('`') {
                out.entry(t.clone())
                    .or_default()
                    .insert(row[..end].to_owned());
            }
        }
    }
    out
}

fn compare(what: &str, got: &Keys, want: &Keys) {
    let mut wrong = Vec::new();
    for (table, keys) in want {
        let have = got.get(table).cloned().unwrap_or_default();
        for k in keys.difference(&have) {
            wrong.push(format!("[{table}] {k} is missing from {what}"));
        }
        for k in have.difference(keys) {
            wrong.push(format!(
                "[{table}] {k} is in {what} but the parser does not take it"
            ));
        }
    }
    for table in got.keys().filter(|t| !want.contains_key(*t)) {
        wrong.push(format!(
            "{what} has a table [{table}] the parser does not know"
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_reference_the_example_and_the_parser_name_the_same_keys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let parser = parser_keys();
    assert!(parser["cameras"].contains("privacy_schedule"), "{parser:?}");
    let example = std::fs::read_to_string(root.join("config.example.toml")).expect("example");
    compare("config.example.toml", &file_keys(&example), &parser);
    let docs = std::fs::read_to_string(root.join("docs/configuration.md")).expect("reference");
    compare("docs/configuration.md", &doc_keys(&docs), &parser);
}

#[test]
fn the_example_is_a_valid_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("config.example.toml");
    let text = std::fs::read_to_string(&path).expect("example");
    if let Err(e) = Config::parse(&text, &path) {
        panic!("{e}");
    }
}
