//! Viewing receipts (pure): the audit log's views of footage (live with how
//! long, playback ranges, stills, event pictures, exports) as sentences a
//! household reads, and which of them announce themselves to cameras with
//! `notify_on_view`: one announcement per view, pictures looked through
//! counted as one view in ten minutes.

use crate::audit_record::{Entry, Record, action};
use crate::local_time::Zone;
use std::collections::{HashMap, HashSet};

/// The actions that show a camera's footage to someone.
pub const VIEWS: &[&str] = &[
    action::LIVE_START,
    action::LIVE_STOP,
    action::LIVE_STILL,
    action::PLAYBACK,
    action::RECORDED_STILL,
    action::SNAPSHOT,
    action::EXPORT,
    action::EXPORT_DOWNLOAD,
    action::CAMERA_TEST,
    action::MOTION_PREVIEW,
];

/// Pictures looked through within this long count as one view.
const PICTURES_ONCE_US: i64 = 10 * 60 * 1_000_000;

/// One view of a camera's footage.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    /// The audit entry it comes from (the end, for a live view that ended).
    pub id: i64,
    pub time_us: i64,
    pub user: String,
    pub camera: String,
    pub action: String,
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    /// A live view with no end in the log: still open, or Hearth stopped.
    pub open: bool,
    pub sentence: String,
}

fn minutes(us: i64) -> String {
    match us {
        us if us < 60_000_000 => format!("{} s", us.max(0) / 1_000_000),
        us => format!("{} min", (us + 30_000_000) / 60_000_000),
    }
}

fn range(zone: Zone, r: &Record) -> String {
    match (r.from_us, r.to_us) {
        (Some(a), Some(b)) if zone.day_of(a) == zone.day_of(b) => {
            format!("{} – {}", zone.date_time(a), zone.time(b))
        }
        (Some(a), Some(b)) => format!("{} – {}", zone.date_time(a), zone.date_time(b)),
        _ => String::new(),
    }
}

/// What `r` shows of its camera, in words ("sam watched den live for 3 min");
/// `None` for an entry that is not a view.
pub fn sentence(r: &Record, zone: Zone) -> Option<String> {
    let who = r.user.as_deref().unwrap_or("someone");
    let cam = r.camera.as_deref()?;
    let span = range(zone, r);
    Some(match r.action.as_str() {
        action::LIVE_START => format!("{who} is watching {cam} live"),
        action::LIVE_STOP => {
            let length = r.from_us.zip(r.to_us).map(|(a, b)| minutes(b - a));
            format!(
                "{who} watched {cam} live for {}",
                length.unwrap_or_else(|| "a while".into())
            )
        }
        action::LIVE_STILL => format!("{who} saw live stills of {cam}"),
        action::PLAYBACK => format!("{who} played {cam}'s recording of {span}"),
        action::RECORDED_STILL => format!("{who} looked through {cam}'s recordings"),
        action::SNAPSHOT => format!("{who} saw pictures of {cam}'s events"),
        action::EXPORT => format!("{who} exported {cam}'s recording of {span}"),
        action::EXPORT_DOWNLOAD => format!("{who} downloaded an export of {cam}"),
        action::CAMERA_TEST => format!("{who} tested {cam}'s connection and saw its picture"),
        action::MOTION_PREVIEW => format!("{who} saw {cam} live while tuning motion detection"),
        _ => return None,
    })
}

/// The views among `entries` (newest first), a live view's start and end as
/// one receipt when both are there.
pub fn receipts(entries: &[Entry], zone: Zone) -> Vec<Receipt> {
    let key = |r: &Record| (r.user.clone(), r.camera.clone(), r.from_us);
    let ended: HashSet<_> = entries
        .iter()
        .filter(|e| e.record.action == action::LIVE_STOP)
        .map(|e| key(&e.record))
        .collect();
    entries
        .iter()
        .filter_map(|e| {
            let r = &e.record;
            let open = r.action == action::LIVE_START;
            if open && ended.contains(&key(r)) {
                return None;
            }
            let camera = r.camera.clone()?;
            let sentence = if open {
                let who = r.user.as_deref().unwrap_or("someone");
                format!("{who} started watching {camera} live")
            } else {
                sentence(r, zone)?
            };
            Some(Receipt {
                id: e.id,
                time_us: r.time_us,
                user: r.user.clone().unwrap_or_default(),
                camera,
                action: r.action.clone(),
                from_us: r.from_us,
                to_us: r.to_us,
                open,
                sentence,
            })
        })
        .collect()
}

/// Decides which views are announced: each live view at its start (not again
/// at its end), each playback and export, and pictures (stills, event
/// pictures) once per user, camera and kind in ten minutes.
#[derive(Default)]
pub struct Announcer {
    pictures: HashMap<(String, String, String), i64>,
}

impl Announcer {
    /// What to announce of `r`, written at `r.time_us`, if anything.
    pub fn announce(&mut self, r: &Record, zone: Zone) -> Option<String> {
        if r.action == action::LIVE_STOP || !VIEWS.contains(&r.action.as_str()) {
            return None;
        }
        let pictures = [action::LIVE_STILL, action::RECORDED_STILL, action::SNAPSHOT];
        if pictures.contains(&r.action.as_str()) {
            let key = (
                r.user.clone().unwrap_or_default(),
                r.camera.clone().unwrap_or_default(),
                r.action.clone(),
            );
            self.pictures
                .retain(|_, t| r.time_us - *t < PICTURES_ONCE_US);
            if self.pictures.contains_key(&key) {
                return None;
            }
            self.pictures.insert(key, r.time_us);
        }
        sentence(r, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, action: &str, user: &str, from: i64, to: i64) -> Entry {
        Entry {
            id,
            record: Record {
                time_us: to,
                user: Some(user.into()),
                action: action.into(),
                camera: Some("den".into()),
                from_us: Some(from),
                to_us: Some(to),
                ..Record::default()
            },
            prev_hash: [0; 32],
            hash: [0; 32],
        }
    }

    #[test]
    fn a_live_view_is_one_receipt_with_its_length() {
        let min = 60_000_000;
        let newest_first = vec![
            entry(4, action::LIVE_START, "ann", 10 * min, 10 * min),
            entry(3, action::LIVE_STOP, "sam", 0, 3 * min),
            entry(2, action::PLAYBACK, "sam", 0, 2 * min),
            entry(1, action::LIVE_START, "sam", 0, 0),
            entry(0, action::LOGIN, "sam", 0, 0),
        ];
        let r = receipts(&newest_first, Zone::UTC);
        let said: Vec<&str> = r.iter().map(|r| r.sentence.as_str()).collect();
        assert_eq!(
            said,
            [
                "ann started watching den live",
                "sam watched den live for 3 min",
                "sam played den's recording of Thu 1 Jan 1970, 00:00:00 – 00:02:00",
            ]
        );
        assert!(r[0].open && !r[1].open);
    }

    #[test]
    fn each_view_is_announced_once_and_pictures_once_in_ten_minutes() {
        let mut a = Announcer::default();
        let z = Zone::UTC;
        let rec = |action: &str, at: i64| entry(0, action, "sam", at, at).record;
        assert_eq!(
            a.announce(&rec(action::LIVE_START, 0), z).as_deref(),
            Some("sam is watching den live")
        );
        assert_eq!(a.announce(&rec(action::LIVE_STOP, 5), z), None);
        assert!(a.announce(&rec(action::PLAYBACK, 6), z).is_some());
        assert!(a.announce(&rec(action::PLAYBACK, 7), z).is_some());
        assert!(a.announce(&rec(action::SNAPSHOT, 8), z).is_some());
        assert_eq!(a.announce(&rec(action::SNAPSHOT, 9), z), None);
        assert!(
            a.announce(&rec(action::SNAPSHOT, 8 + PICTURES_ONCE_US), z)
                .is_some()
        );
        assert_eq!(a.announce(&rec(action::LOGIN, 10), z), None);
        assert_eq!(a.announce(&rec(action::PRIVACY_OFF, 10), z), None);
    }
}
