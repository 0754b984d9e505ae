//! A camera's settings as the admin's camera form shows and sends them (pure):
//! the form made from the running config (never a password), and the config
//! keys a sent form changes, so a save rewrites only what the admin changed.

use crate::config::{Camera, RecordMode, RtpTransport};
use crate::config_edit::Field;
use crate::motion_settings::{DetectorConfig, Polygon};
use serde::{Deserialize, Serialize};
use toml_edit::{Array, ArrayOfTables, Item, Table, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneForm {
    pub name: String,
    pub polygon: Vec<[f32; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotionForm {
    pub enabled: bool,
    pub sensitivity: f32,
    pub min_area: f32,
    pub min_frames: u32,
    pub fps: f32,
    pub absorb_s: f32,
    pub pre_roll_s: f32,
    pub post_roll_s: f32,
    #[serde(default)]
    pub masks: Vec<Vec<[f32; 2]>>,
    #[serde(default)]
    pub zones: Vec<ZoneForm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraForm {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub sub_url: String,
    #[serde(default)]
    pub username: String,
    /// Sent only: absent keeps the stored password, empty removes it.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// Shown only: whether a password is stored.
    #[serde(default)]
    pub has_password: bool,
    pub transport: RtpTransport,
    #[serde(default)]
    pub audio: bool,
    pub record: RecordMode,
    #[serde(default)]
    pub record_sub: bool,
    pub motion: MotionForm,
    /// Weekly windows of privacy mode, as the config writes them.
    #[serde(default)]
    pub privacy_schedule: Vec<String>,
    #[serde(default)]
    pub privacy_groups: Vec<String>,
    #[serde(default)]
    pub notify_on_view: bool,
}

fn points(p: &Polygon) -> Vec<[f32; 2]> {
    p.0.iter().map(|&(x, y)| [x, y]).collect()
}

fn detector_polygon(points: &[[f32; 2]]) -> Polygon {
    Polygon(
        points
            .iter()
            .map(|&[x, y]| (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0)))
            .collect(),
    )
}

impl MotionForm {
    /// The detector these settings make, held to the ranges the config allows,
    /// for a preview before they are saved.
    pub fn detector(&self) -> DetectorConfig {
        let or = |x: f32, lo: f32, hi: f32, d: f32| if x.is_finite() { x.clamp(lo, hi) } else { d };
        let d = DetectorConfig::default();
        DetectorConfig {
            sensitivity: or(self.sensitivity, 0.0, 1.0, d.sensitivity),
            min_area: or(self.min_area, 0.0, 1.0, d.min_area),
            min_frames: self.min_frames.clamp(1, 100),
            fps: or(self.fps, 0.5, 30.0, d.fps),
            absorb_s: or(self.absorb_s, 0.5, 3600.0, d.absorb_s),
            masks: self
                .masks
                .iter()
                .filter(|m| m.len() >= 3)
                .map(|m| detector_polygon(m))
                .collect(),
            zones: self
                .zones
                .iter()
                .filter(|z| z.polygon.len() >= 3)
                .map(|z| (z.name.clone(), detector_polygon(&z.polygon)))
                .collect(),
        }
    }
}

impl CameraForm {
    /// The form of a running camera.
    pub fn of(c: &Camera) -> CameraForm {
        let d = &c.motion.detector;
        CameraForm {
            name: c.name.clone(),
            url: c.url.to_string(),
            sub_url: c
                .sub_url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
            username: c.username.clone().unwrap_or_default(),
            password: None,
            has_password: c.password.is_some(),
            transport: c.transport,
            audio: c.audio,
            record: c.record,
            record_sub: c.record_sub,
            privacy_schedule: c.privacy_schedule.0.iter().map(|w| w.to_string()).collect(),
            privacy_groups: c.privacy_groups.clone(),
            notify_on_view: c.notify_on_view,
            motion: MotionForm {
                enabled: c.motion.enabled,
                sensitivity: d.sensitivity,
                min_area: d.min_area,
                min_frames: d.min_frames,
                fps: d.fps,
                absorb_s: d.absorb_s,
                pre_roll_s: c.motion.pre_roll.as_secs_f32(),
                post_roll_s: c.motion.post_roll.as_secs_f32(),
                masks: d.masks.iter().map(points).collect(),
                zones: d
                    .zones
                    .iter()
                    .map(|(name, p)| ZoneForm {
                        name: name.clone(),
                        polygon: points(p),
                    })
                    .collect(),
            },
        }
    }

    /// A new camera's form: the config's defaults.
    pub fn new_camera() -> CameraForm {
        let m = crate::config::Motion::default();
        let d = &m.detector;
        CameraForm {
            name: String::new(),
            url: String::new(),
            sub_url: String::new(),
            username: String::new(),
            password: None,
            has_password: false,
            transport: RtpTransport::Tcp,
            audio: false,
            record: RecordMode::Continuous,
            record_sub: false,
            privacy_schedule: Vec::new(),
            privacy_groups: Vec::new(),
            notify_on_view: false,
            motion: MotionForm {
                enabled: m.enabled,
                sensitivity: d.sensitivity,
                min_area: d.min_area,
                min_frames: d.min_frames,
                fps: d.fps,
                absorb_s: d.absorb_s,
                pre_roll_s: m.pre_roll.as_secs_f32(),
                post_roll_s: m.post_roll.as_secs_f32(),
                masks: Vec::new(),
                zones: Vec::new(),
            },
        }
    }
}

/// An f32 as the short decimal it was typed as (0.8, not 0.800000011920929).
fn float(v: f32) -> Value {
    Value::from(v.to_string().parse::<f64>().unwrap_or(f64::from(v)))
}

/// Seconds as the config writes durations: "5s", "1500ms".
fn duration(s: f32) -> Value {
    let ms = (f64::from(s) * 1000.0).round();
    if ms % 1000.0 == 0.0 {
        Value::from(format!("{}s", ms / 1000.0))
    } else {
        Value::from(format!("{ms}ms"))
    }
}

fn polygon(points: &[[f32; 2]]) -> Value {
    let mut a = Array::new();
    for [x, y] in points {
        let mut p = Array::new();
        p.push(float(*x));
        p.push(float(*y));
        a.push(p);
    }
    Value::Array(a)
}

fn text(key: &str, v: &str) -> Field {
    let item = (!v.is_empty()).then(|| Item::Value(Value::from(v)));
    (key.to_owned(), item)
}

fn value(key: &str, v: Value) -> Field {
    (key.to_owned(), Some(Item::Value(v)))
}

fn lower<T: Serialize>(v: &T) -> Value {
    let s = serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_owned))
        .unwrap_or_default();
    Value::from(s)
}

/// The keys `form` changes against `old` (all of them for a new camera), for
/// [`crate::config_edit`]. Credentials are left to the caller: `password_file`
/// is set by it.
pub fn fields(form: &CameraForm, old: Option<&CameraForm>) -> Vec<Field> {
    let mut out = Vec::new();
    if old.is_some_and(|o| o.name != form.name) {
        out.push(text("name", &form.name));
    }
    if old.is_none_or(|o| o.url != form.url) {
        out.push(text("url", &form.url));
    }
    if old.map_or(!form.sub_url.is_empty(), |o| o.sub_url != form.sub_url) {
        out.push(text("sub_url", &form.sub_url));
    }
    if old.map_or(!form.username.is_empty(), |o| o.username != form.username) {
        out.push(text("username", &form.username));
    }
    if old.map_or(form.transport != RtpTransport::Tcp, |o| {
        o.transport != form.transport
    }) {
        out.push(value("transport", lower(&form.transport)));
    }
    if old.map_or(form.audio, |o| o.audio != form.audio) {
        out.push(value("audio", Value::from(form.audio)));
    }
    if old.map_or(form.record != RecordMode::Continuous, |o| {
        o.record != form.record
    }) {
        out.push(value("record", lower(&form.record)));
    }
    if old.map_or(form.record_sub, |o| o.record_sub != form.record_sub) {
        out.push(value("record_sub", Value::from(form.record_sub)));
    }
    let strings = |v: &[String]| {
        let a: Array = v
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        (!a.is_empty()).then(|| Item::Value(Value::Array(a)))
    };
    if old.map_or(!form.privacy_schedule.is_empty(), |o| {
        o.privacy_schedule != form.privacy_schedule
    }) {
        out.push(("privacy_schedule".into(), strings(&form.privacy_schedule)));
    }
    if old.map_or(!form.privacy_groups.is_empty(), |o| {
        o.privacy_groups != form.privacy_groups
    }) {
        out.push(("privacy_groups".into(), strings(&form.privacy_groups)));
    }
    if old.map_or(form.notify_on_view, |o| {
        o.notify_on_view != form.notify_on_view
    }) {
        out.push(value("notify_on_view", Value::from(form.notify_on_view)));
    }
    let base = CameraForm::new_camera().motion;
    let (m, o) = (&form.motion, old.map_or(&base, |o| &o.motion));
    let mut motion = |key: &str, differs: bool, v: Value| {
        if differs {
            out.push(value(&format!("motion.{key}"), v));
        }
    };
    motion("enabled", m.enabled != o.enabled, Value::from(m.enabled));
    motion(
        "sensitivity",
        m.sensitivity != o.sensitivity,
        float(m.sensitivity),
    );
    motion("min_area", m.min_area != o.min_area, float(m.min_area));
    motion(
        "min_frames",
        m.min_frames != o.min_frames,
        Value::from(i64::from(m.min_frames)),
    );
    motion("fps", m.fps != o.fps, float(m.fps));
    motion("absorb", m.absorb_s != o.absorb_s, duration(m.absorb_s));
    motion(
        "pre_roll",
        m.pre_roll_s != o.pre_roll_s,
        duration(m.pre_roll_s),
    );
    motion(
        "post_roll",
        m.post_roll_s != o.post_roll_s,
        duration(m.post_roll_s),
    );
    if m.masks != o.masks {
        let mut a = Array::new();
        for p in &m.masks {
            a.push(polygon(p));
        }
        let item = (!m.masks.is_empty()).then(|| Item::Value(Value::Array(a)));
        out.push(("motion.masks".into(), item));
    }
    if m.zones != o.zones {
        let mut zones = ArrayOfTables::new();
        for z in &m.zones {
            let mut t = Table::new();
            t.insert("name", Item::Value(Value::from(z.name.as_str())));
            t.insert("polygon", Item::Value(polygon(&z.polygon)));
            zones.push(t);
        }
        let item = (!m.zones.is_empty()).then_some(Item::ArrayOfTables(zones));
        out.push(("motion.zones".into(), item));
    }
    out
}

/// A form's settings as `key = value` pairs, sub-keys dotted (`motion.fps`).
fn flat(form: &CameraForm) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            v => out.push((prefix.to_owned(), v.to_string())),
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(form) {
        walk("", &v, &mut out);
    }
    out
}

/// What a save changed, for the audit log: `key: before → after` for each
/// setting; credentials only as "changed", never their value.
pub fn changes(before: Option<&CameraForm>, after: &CameraForm, password_changed: bool) -> String {
    let old = before.map(flat).unwrap_or_default();
    let mut out: Vec<String> = flat(after)
        .into_iter()
        .filter(|(k, _)| k != "has_password")
        .filter_map(|(k, v)| match old.iter().find(|(o, _)| *o == k) {
            Some((_, o)) if *o == v => None,
            Some((_, o)) => Some(format!("{k}: {o} → {v}")),
            None => Some(format!("{k}: {v}")),
        })
        .collect();
    if password_changed {
        out.push("password: changed".into());
    }
    if out.is_empty() {
        "nothing changed".into()
    } else {
        out.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config_edit::{add_camera, edit_camera};
    use std::path::Path;

    const FILE: &str = "[storage]\ndata_dir = \"d\"\n\n[[cameras]]\nname = \"front\"\n\
        url = \"rtsp://10.0.0.1/main\"\n\n[cameras.motion]\npre_roll = \"5000ms\" # as typed\n";

    fn parse(text: &str) -> Config {
        Config::parse(text, Path::new("/h.toml")).expect("config")
    }

    #[test]
    fn changes_name_each_key_and_never_a_password() {
        let cfg = parse(FILE);
        let old = CameraForm::of(&cfg.cameras[0]);
        let mut new = old.clone();
        new.url = "rtsp://10.0.0.1/h264".into();
        new.password = Some("hunter2".into());
        new.motion.min_frames = 4;
        let c = changes(Some(&old), &new, true);
        assert_eq!(
            c,
            "motion.min_frames: 2 → 4; url: \"rtsp://10.0.0.1/main\" → \"rtsp://10.0.0.1/h264\"; password: changed"
        );
        assert!(!c.contains("hunter2"));
        assert_eq!(changes(Some(&old), &old, false), "nothing changed");
    }

    #[test]
    fn an_unchanged_form_changes_no_key() {
        let cfg = parse(FILE);
        let form = CameraForm::of(&cfg.cameras[0]);
        assert!(fields(&form, Some(&form)).is_empty());
    }

    #[test]
    fn a_form_round_trips_through_the_file() {
        let cfg = parse(FILE);
        let old = CameraForm::of(&cfg.cameras[0]);
        let mut form = old.clone();
        form.sub_url = "rtsp://10.0.0.1/sub".into();
        form.record = RecordMode::Motion;
        form.transport = RtpTransport::Udp;
        form.motion.sensitivity = 0.8;
        form.motion.post_roll_s = 2.5;
        form.motion.masks = vec![vec![[0.0, 0.0], [0.5, 0.0], [0.5, 0.25]]];
        form.motion.zones = vec![ZoneForm {
            name: "path".into(),
            polygon: vec![[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]],
        }];
        form.privacy_schedule = vec!["Mon-Fri 08:00-18:00".into(), "daily 23:00-06:00".into()];
        form.privacy_groups = vec!["indoor".into()];
        form.notify_on_view = true;
        let mut doc: toml_edit::DocumentMut = FILE.parse().expect("toml");
        edit_camera(&mut doc, "front", &fields(&form, Some(&old))).expect("edit");
        let text = doc.to_string();
        assert!(
            text.contains("privacy_schedule = [\"Mon-Fri 08:00-18:00\", \"daily 23:00-06:00\"]"),
            "{text}"
        );
        assert!(text.contains("sensitivity = 0.8\n"), "{text}");
        assert!(text.contains("post_roll = \"2500ms\""), "{text}");
        assert!(text.contains("pre_roll = \"5000ms\" # as typed"), "{text}");
        assert!(text.contains("[[cameras.motion.zones]]"), "{text}");
        let back = CameraForm::of(&parse(&text).cameras[0]);
        assert_eq!(back, form);
    }

    #[test]
    fn a_new_camera_writes_only_what_differs_from_the_defaults() {
        let mut form = CameraForm::new_camera();
        form.name = "yard".into();
        form.url = "rtsp://10.0.0.2/main".into();
        let f = fields(&form, None);
        assert_eq!(f.len(), 1, "{f:?}");
        let mut doc: toml_edit::DocumentMut = FILE.parse().expect("toml");
        add_camera(&mut doc, "yard", &f).expect("add");
        let cfg = parse(&doc.to_string());
        assert_eq!(CameraForm::of(&cfg.cameras[1]), form);
    }
}
