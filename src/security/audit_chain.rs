//! The tamper-evident audit log's hash chain (pure): each entry's hash covers its
//! fields and the previous entry's hash, so editing or deleting any entry breaks
//! every hash after it, checked here against anchors kept apart from the log.
//! The entries and their hash are `audit_record`'s, below the store that appends
//! them inside its transaction.

pub use crate::audit_record::{Entry, GENESIS, Hash, Record, action, hash};

/// Checks a whole log, oldest first, against anchors recorded apart from it: the
/// head file and checkpoints (an entry's id and hash). Each anchor's entry must
/// be in the log with that hash; the log may go on past an anchor (entries
/// committed after it was written). Returns the number of entries, or what is wrong.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    anchors: &[(i64, Hash)],
) -> Result<usize, String> {
    let mut prev = GENESIS;
    let mut expected_id = 1;
    let mut n = 0;
    for e in entries {
        if e.id != expected_id {
            return Err(format!("entry {expected_id} is missing (next is {})", e.id));
        }
        if e.prev_hash != prev {
            return Err(format!("entry {} does not follow entry {}", e.id, e.id - 1));
        }
        if hash(&prev, e.id, &e.record) != e.hash {
            return Err(format!("entry {} was altered", e.id));
        }
        if let Some((_, h)) = anchors.iter().find(|(id, _)| *id == e.id) {
            if *h != e.hash {
                return Err(format!(
                    "entry {} differs from the one recorded apart from the log: the log was rewritten",
                    e.id
                ));
            }
        }
        prev = e.hash;
        expected_id += 1;
        n += 1;
    }
    if let Some((id, _)) = anchors.iter().max_by_key(|(id, _)| *id) {
        if *id > expected_id - 1 {
            return Err(format!(
                "the log ends at entry {}, but entry {id} was written: entries were removed from the end",
                expected_id - 1
            ));
        }
    }
    Ok(n)
}

/// An anchor as text (`ID:HASH`, hash in hex), as checkpoints are logged.
pub fn anchor_text(id: i64, h: &Hash) -> String {
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!("{id}:{hex}")
}

/// Parses [`anchor_text`]'s form.
pub fn parse_anchor(s: &str) -> Option<(i64, Hash)> {
    let (id, h) = s.trim().split_once([':', ' '])?;
    let id = id.parse().ok()?;
    if h.len() != 64 || !h.is_ascii() {
        return None;
    }
    let bytes: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
        .collect::<Option<_>>()?;
    Some((id, bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|id| {
                let record = Record {
                    time_us: id * 1000,
                    user: Some("ann".into()),
                    action: action::PLAYBACK.into(),
                    camera: Some("front".into()),
                    from_us: Some(id),
                    to_us: Some(id + 5),
                    ..Record::default()
                };
                let h = hash(&prev, id, &record);
                let e = Entry {
                    id,
                    record,
                    prev_hash: prev,
                    hash: h,
                };
                prev = h;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, &[(5, c[4].hash)]), Ok(5));
        assert_eq!(verify(&[], &[]), Ok(0));
        // A head behind the table by entries committed after it: not tampering.
        assert_eq!(verify(&c, &[(3, c[2].hash)]), Ok(5));
        let t = anchor_text(3, &c[2].hash);
        assert_eq!(parse_anchor(&t), Some((3, c[2].hash)));
        assert_eq!(parse_anchor("3:abc"), None);
    }

    #[test]
    fn edits_deletions_and_truncation_are_detected() {
        let mut c = chain(5);
        c[2].record.camera = Some("back".into());
        assert_eq!(verify(&c, &[]), Err("entry 3 was altered".into()));
        let mut c = chain(5);
        c.remove(1);
        assert!(verify(&c, &[]).unwrap_err().contains("entry 2 is missing"));
        let c = chain(5);
        let head = [(5, c[4].hash)];
        assert!(
            verify(&c[..4], &head)
                .unwrap_err()
                .contains("removed from the end")
        );
        // Rewriting an entry and rehashing everything after it still fails at the head.
        let mut c = chain(5);
        c[4].record.user = Some("mallory".into());
        c[4].hash = hash(&c[4].prev_hash, 5, &c[4].record);
        assert!(verify(&c, &head).is_err());
        // An emptied log against a checkpoint.
        assert!(
            verify(&[], &[(4, c[3].hash)])
                .unwrap_err()
                .contains("removed from the end")
        );
        // A log rebuilt from scratch with the same length does not match it.
        let mut other = chain(5);
        other[0].record.user = Some("mallory".into());
        let mut prev = GENESIS;
        for e in &mut other {
            e.prev_hash = prev;
            e.hash = hash(&prev, e.id, &e.record);
            prev = e.hash;
        }
        assert!(
            verify(&other, &[(4, c[3].hash)])
                .unwrap_err()
                .contains("rewritten")
        );
    }
}
