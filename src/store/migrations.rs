//! Numbered schema migrations, applied in order and recorded in `user_version`.

use rusqlite::Connection;

/// Migration N (1-based) is `MIGRATIONS[N - 1]`. Never edit one that has shipped:
/// add the next.
const MIGRATIONS: &[&str] = &[
    // 1: cameras, streams and the segment index.
    "CREATE TABLE cameras (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE streams (
        id INTEGER PRIMARY KEY,
        camera_id INTEGER NOT NULL REFERENCES cameras (id),
        kind TEXT NOT NULL,
        UNIQUE (camera_id, kind)
    );
    CREATE TABLE segments (
        id INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL REFERENCES streams (id),
        start_us INTEGER NOT NULL,      -- wall clock (UTC) of the first frame, µs since 1970
        duration_90k INTEGER NOT NULL,  -- media duration, 90 kHz
        bytes INTEGER NOT NULL,         -- indexed length of the file
        frames INTEGER NOT NULL,
        path TEXT NOT NULL UNIQUE,      -- relative to the data directory
        codec TEXT NOT NULL,            -- RFC 6381
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        sample_entry BLOB NOT NULL,     -- the MP4 sample entry box
        fragments BLOB NOT NULL,        -- packed fragment index, see store/fragments.rs
        state INTEGER NOT NULL          -- 0 open, 1 complete, 2 deleting
    );
    CREATE INDEX segments_by_stream_time ON segments (stream_id, start_us);",
    // 2: the audio track of segments that record one.
    "ALTER TABLE segments ADD COLUMN audio_sample_entry BLOB;  -- the mp4a sample entry
    ALTER TABLE segments ADD COLUMN audio_timescale INTEGER;",
    // 3: users, their camera permissions, sessions and the audit log.
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,             -- admin | viewer
        password_hash TEXT NOT NULL,    -- argon2id, PHC string
        created_us INTEGER NOT NULL
    );
    CREATE TABLE user_cameras (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        camera TEXT NOT NULL,
        PRIMARY KEY (user_id, camera)
    );
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,    -- SHA-256 of the cookie's token
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        last_seen_us INTEGER NOT NULL,
        address TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time_us INTEGER NOT NULL,
        user TEXT,
        address TEXT,
        action TEXT NOT NULL,
        camera TEXT,
        from_us INTEGER,
        to_us INTEGER,
        detail TEXT,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 4: the one-time-password second factor and its recovery codes.
    "ALTER TABLE users ADD COLUMN totp_secret TEXT;      -- base32; set once confirmed
    ALTER TABLE users ADD COLUMN totp_pending TEXT;      -- base32; shown, not yet confirmed
    ALTER TABLE users ADD COLUMN totp_last_step INTEGER; -- last step used: codes are good once
    CREATE TABLE recovery_codes (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash BLOB NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, code_hash)
    );",
    // 5: motion events and per-second activity.
    "CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        camera TEXT NOT NULL,
        start_us INTEGER NOT NULL,
        end_us INTEGER NOT NULL,
        peak REAL NOT NULL,             -- share of the watched area moving, at the peak
        peak_us INTEGER NOT NULL,
        bbox TEXT,                      -- x0,y0,x1,y1 in 0..1 units
        zones TEXT NOT NULL             -- comma-separated zone names
    );
    CREATE INDEX events_by_camera_time ON events (camera, start_us);
    CREATE TABLE activity (
        camera TEXT NOT NULL,
        second INTEGER NOT NULL,        -- seconds since 1970
        level REAL NOT NULL,            -- highest motion score in that second
        PRIMARY KEY (camera, second)
    );",
    // 6: event pictures.
    "ALTER TABLE events ADD COLUMN snapshot BLOB;  -- JPEG at the peak
    ALTER TABLE events ADD COLUMN thumb BLOB;     -- small JPEG for lists",
    // 7: what kind of recording a segment is, for retention by class.
    "ALTER TABLE segments ADD COLUMN class TEXT NOT NULL DEFAULT 'continuous';  -- continuous | motion",
    // 8: why a session ended, kept a while so a live view or download still
    // streaming on it can say why it was cut.
    "CREATE TABLE ended_sessions (
        token_hash BLOB PRIMARY KEY,
        reason TEXT NOT NULL,           -- see store::users::EndReason
        ended_us INTEGER NOT NULL
    );",
    // 9: addresses each user has logged in from: a stranger's failed guesses at
    // a name do not lock its owner out from where they usually log in.
    "CREATE TABLE login_addresses (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        address TEXT NOT NULL,          -- security::ratelimit::address_key
        last_us INTEGER NOT NULL,
        PRIMARY KEY (user_id, address)
    );",
    // 10: facts about the index itself: `data_id` is the identity of the data
    // directory it indexes (record::data_dir), so it is never used with another.
    "CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // 11: the events each user has marked reviewed.
    "CREATE TABLE event_reviews (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, event_id)
    );
    CREATE INDEX events_by_time ON events (start_us);",
    // 12: exports kept on the server (store::exports); state 0 writing, 1 ready, 2 failed.
    "CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        camera TEXT NOT NULL,
        stream TEXT NOT NULL,
        from_us INTEGER NOT NULL,
        to_us INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        state INTEGER NOT NULL,
        error TEXT
    );",
    // 13: one-time login links (web::login_link), made on this machine: a digest
    // of the token, taken once.
    "CREATE TABLE login_links (
        token_hash BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        expires_us INTEGER NOT NULL
    );",
    // 14: cameras whose recording was switched off at run time (by a user or
    // MQTT), kept across restarts.
    "CREATE TABLE recording_off (
        camera TEXT PRIMARY KEY,
        since_us INTEGER NOT NULL,
        by TEXT NOT NULL
    );",
    // 15: encryption at rest. A sealed file's data key, wrapped by the master key
    // (seal::keys), under the number its header names. A row that stops
    // referring to its key (deleted, or a segment marked for deletion) deletes
    // the key first: what is left of the file on disk can never be read again.
    "CREATE TABLE data_keys (
        id INTEGER PRIMARY KEY,
        wrapped BLOB NOT NULL,
        created_us INTEGER NOT NULL
    );
    ALTER TABLE segments ADD COLUMN key_id INTEGER;   -- data key of a sealed file
    ALTER TABLE events ADD COLUMN key_id INTEGER;     -- data key of its sealed pictures
    ALTER TABLE exports ADD COLUMN key_id INTEGER;    -- data key of a sealed export file
    CREATE TRIGGER segments_shred_on_mark AFTER UPDATE OF state ON segments
        WHEN NEW.state = 2 AND OLD.key_id IS NOT NULL
        BEGIN DELETE FROM data_keys WHERE id = OLD.key_id; END;
    CREATE TRIGGER segments_shred AFTER DELETE ON segments WHEN OLD.key_id IS NOT NULL
        BEGIN DELETE FROM data_keys WHERE id = OLD.key_id; END;
    CREATE TRIGGER events_shred AFTER DELETE ON events WHEN OLD.key_id IS NOT NULL
        BEGIN DELETE FROM data_keys WHERE id = OLD.key_id; END;
    CREATE TRIGGER exports_shred AFTER DELETE ON exports WHEN OLD.key_id IS NOT NULL
        BEGIN DELETE FROM data_keys WHERE id = OLD.key_id; END;",
    // 16: privacy mode. Each period a camera was private (nothing pulled from
    // it): open while it lasts, who or what began and ended it. And a switch by
    // hand that holds until the camera's schedule next changes.
    "CREATE TABLE privacy_periods (
        id INTEGER PRIMARY KEY,
        camera TEXT NOT NULL,
        start_us INTEGER NOT NULL,
        end_us INTEGER,               -- NULL while it lasts
        started_by TEXT NOT NULL,     -- a user's name, \"schedule\" or \"mqtt\"
        ended_by TEXT
    );
    CREATE INDEX privacy_periods_by_camera ON privacy_periods (camera, start_us);
    CREATE UNIQUE INDEX privacy_periods_open ON privacy_periods (camera) WHERE end_us IS NULL;
    CREATE TABLE privacy_override (
        camera TEXT PRIMARY KEY,
        private INTEGER NOT NULL,
        since_us INTEGER NOT NULL,
        by TEXT NOT NULL
    );",
];

pub fn apply(conn: &mut Connection) -> Result<(), String> {
    let version = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(|e| e.to_string())?;
    let current = usize::try_from(version).map_err(|_| format!("schema version {version}"))?;
    if current > MIGRATIONS.len() {
        return Err(format!(
            "schema version {current} is newer than this Hearth knows ({}); upgrade Hearth",
            MIGRATIONS.len()
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", (i + 1) as i64))
            .and_then(|_| tx.commit())
            .map_err(|e| format!("migration {} failed: {e}", i + 1))?;
    }
    Ok(())
}
