//! Users, their camera permissions, and login sessions.

use super::{Result, Store, StoreError};
use rusqlite::{OptionalExtension, params};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// Cameras a viewer may watch (admins may watch all).
    pub cameras: Vec<String>,
    /// The confirmed one-time-password secret: logins need a code.
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: Option<i64>,
}

impl UserRow {
    pub fn may_view(&self, camera: &str) -> bool {
        self.role == Role::Admin || self.cameras.iter().any(|c| c == camera)
    }
}

/// Why a session ended, kept for a while after it did (see [`Store::session_end`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    LoggedOut,
    PasswordChanged,
    PermissionsChanged,
    UserRemoved,
    SecondFactorChanged,
    IdleExpired,
    Expired,
    EndedByAdmin,
    /// The session is gone and nothing says why (purged, or never existed).
    Unknown,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::LoggedOut => "logged out",
            EndReason::PasswordChanged => "password changed",
            EndReason::PermissionsChanged => "permissions changed",
            EndReason::UserRemoved => "user removed",
            EndReason::SecondFactorChanged => "second factor changed",
            EndReason::IdleExpired => "idle too long",
            EndReason::Expired => "session expired",
            EndReason::EndedByAdmin => "ended by an admin",
            EndReason::Unknown => "session ended",
        }
    }

    fn parse(s: &str) -> EndReason {
        [
            EndReason::LoggedOut,
            EndReason::PasswordChanged,
            EndReason::PermissionsChanged,
            EndReason::UserRemoved,
            EndReason::SecondFactorChanged,
            EndReason::IdleExpired,
            EndReason::Expired,
            EndReason::EndedByAdmin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .unwrap_or(EndReason::Unknown)
    }
}

/// How long the reason of an ended session is kept.
const ENDED_KEPT_US: i64 = 3600 * 1_000_000;

/// Ends every session of `user_id` (inside `tx`), remembering why.
fn end_user_sessions(
    tx: &rusqlite::Transaction<'_>,
    user_id: i64,
    reason: EndReason,
    now_us: i64,
) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO ended_sessions (token_hash, reason, ended_us) \
         SELECT token_hash, ?2, ?3 FROM sessions WHERE user_id = ?1",
        params![user_id, reason.as_str(), now_us],
    )?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    Ok(())
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// An open session as an admin sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: i64,
    pub created_us: i64,
    pub last_seen_us: i64,
    pub address: String,
}

#[derive(Clone, Debug)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
    pub created_us: i64,
    pub last_seen_us: i64,
}

fn user_id(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<Option<i64>> {
    Ok(tx
        .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
        .optional()?)
}

/// Lets a user view these cameras.
fn grant(tx: &rusqlite::Transaction<'_>, user_id: i64, cameras: &[String]) -> Result<()> {
    for cam in cameras {
        tx.execute(
            "INSERT OR IGNORE INTO user_cameras (user_id, camera) VALUES (?1, ?2)",
            params![user_id, cam],
        )?;
    }
    Ok(())
}

impl Store {
    fn user_where(&self, filter: &str, arg: &dyn rusqlite::ToSql) -> Result<Option<UserRow>> {
        let c = self.conn();
        let row = c
            .query_row(
                &format!(
                    "SELECT id, name, role, password_hash, totp_secret, totp_pending, totp_last_step \
                     FROM users WHERE {filter}"
                ),
                [arg],
                |r| {
                    Ok((
                        (
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ),
                        (r.get(4)?, r.get(5)?, r.get(6)?),
                    ))
                },
            )
            .optional()?;
        let Some(((id, name, role, password_hash), (totp_secret, totp_pending, totp_last_step))) =
            row
        else {
            return Ok(None);
        };
        let mut stmt =
            c.prepare_cached("SELECT camera FROM user_cameras WHERE user_id = ?1 ORDER BY camera")?;
        let cameras = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(Some(UserRow {
            id,
            name,
            role: Role::parse(&role).ok_or(StoreError::Corrupt(id))?,
            password_hash,
            cameras,
            totp_secret,
            totp_pending,
            totp_last_step,
        }))
    }

    /// Keeps a secret shown to the user until a code confirms it.
    pub fn set_totp_pending(&self, user_id: i64, secret: &str) -> Result<()> {
        self.durable()?.execute(
            "UPDATE users SET totp_pending = ?2 WHERE id = ?1",
            params![user_id, secret],
        )?;
        Ok(())
    }

    /// Turns the second factor on with `secret` and replaces the recovery codes.
    pub fn enable_totp(
        &self,
        user_id: i64,
        secret: &str,
        step: i64,
        code_hashes: &[Vec<u8>],
    ) -> Result<()> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        tx.execute(
            "UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_last_step = ?3 WHERE id = ?1",
            params![user_id, secret, step],
        )?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
        for h in code_hashes {
            tx.execute(
                "INSERT OR IGNORE INTO recovery_codes (user_id, code_hash) VALUES (?1, ?2)",
                params![user_id, h],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn disable_totp(&self, user_id: i64) -> Result<()> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        tx.execute(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = ?1",
            [user_id],
        )?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
        tx.commit()?;
        Ok(())
    }

    /// Records the step of a used code; `false` if that step (or a later one) was used.
    pub fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        Ok(self.durable()?.execute(
            "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 \
             AND (totp_last_step IS NULL OR totp_last_step < ?2)",
            params![user_id, step],
        )? == 1)
    }

    /// Spends a recovery code; `false` if it is unknown or spent.
    pub fn use_recovery_code(&self, user_id: i64, code_hash: &[u8]) -> Result<bool> {
        Ok(self.durable()?.execute(
            "UPDATE recovery_codes SET used = 1 WHERE user_id = ?1 AND code_hash = ?2 AND used = 0",
            params![user_id, code_hash],
        )? == 1)
    }

    pub fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        self.user_where("name = ?1", &name)
    }

    pub fn user_by_id(&self, id: i64) -> Result<Option<UserRow>> {
        self.user_where("id = ?1", &id)
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        let ids: Vec<i64> = {
            let c = self.conn();
            let mut stmt = c.prepare("SELECT id FROM users ORDER BY name")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.user_by_id(id)?);
        }
        Ok(out)
    }

    pub fn user_count(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
    }

    /// Adds a user; `false` when the name is taken.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        cameras: &[String],
        now_us: i64,
    ) -> Result<bool> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        let added = tx.execute(
            "INSERT INTO users (name, role, password_hash, created_us) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (name) DO NOTHING",
            params![name, role.as_str(), hash, now_us],
        )? == 1;
        if added {
            grant(&tx, tx.last_insert_rowid(), cameras)?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// Sets a password and ends every session of the user. `false` if no such user.
    pub fn set_password(&self, name: &str, hash: &str) -> Result<bool> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1",
            params![name, hash],
        )?;
        if let Some(id) = user_id(&tx, name)? {
            end_user_sessions(&tx, id, EndReason::PasswordChanged, now_us())?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Replaces a user's role and cameras and ends their sessions. `false` if no such user.
    pub fn set_permissions(&self, name: &str, role: Role, cameras: &[String]) -> Result<bool> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        let Some(id) = user_id(&tx, name)? else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE users SET role = ?2 WHERE id = ?1",
            params![id, role.as_str()],
        )?;
        tx.execute("DELETE FROM user_cameras WHERE user_id = ?1", [id])?;
        grant(&tx, id, cameras)?;
        end_user_sessions(&tx, id, EndReason::PermissionsChanged, now_us())?;
        tx.commit()?;
        Ok(true)
    }

    /// Removes a user, their permissions and sessions. `false` if no such user.
    pub fn remove_user(&self, name: &str) -> Result<bool> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        let Some(id) = user_id(&tx, name)? else {
            return Ok(false);
        };
        end_user_sessions(&tx, id, EndReason::UserRemoved, now_us())?;
        tx.execute("DELETE FROM user_cameras WHERE user_id = ?1", [id])?;
        tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(true)
    }

    pub fn add_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        csrf: &str,
        now_us: i64,
        address: &str,
    ) -> Result<()> {
        self.durable()?.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_us, last_seen_us, address) \
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![token_hash, user_id, csrf, now_us, address],
        )?;
        Ok(())
    }

    pub fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT user_id, csrf, created_us, last_seen_us FROM sessions WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok(SessionRow {
                        user_id: r.get(0)?,
                        csrf: r.get(1)?,
                        created_us: r.get(2)?,
                        last_seen_us: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn touch_session(&self, token_hash: &[u8], now_us: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE sessions SET last_seen_us = ?2 WHERE token_hash = ?1",
            params![token_hash, now_us],
        )?;
        Ok(())
    }

    /// Whether the user `name` has logged in from `address` before.
    pub fn known_login_address(&self, name: &str, address: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM login_addresses a JOIN users u ON u.id = a.user_id \
                 WHERE u.name = ?1 AND a.address = ?2",
                params![name, address],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn remember_login_address(&self, user_id: i64, address: &str, now_us: i64) -> Result<()> {
        self.durable()?.execute(
            "INSERT INTO login_addresses (user_id, address, last_us) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, address) DO UPDATE SET last_us = ?3",
            params![user_id, address, now_us],
        )?;
        Ok(())
    }

    /// Ends one session, remembering why.
    pub fn end_session(&self, token_hash: &[u8], reason: EndReason) -> Result<()> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO ended_sessions (token_hash, reason, ended_us) \
             SELECT token_hash, ?2, ?3 FROM sessions WHERE token_hash = ?1",
            params![token_hash, reason.as_str(), now_us()],
        )?;
        tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        tx.commit()?;
        Ok(())
    }

    /// A user's open sessions, newest first; `id` names one without its token.
    pub fn sessions_of(&self, user_id: i64) -> Result<Vec<SessionInfo>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT rowid, created_us, last_seen_us, address FROM sessions \
             WHERE user_id = ?1 ORDER BY created_us DESC",
        )?;
        let rows = st.query_map([user_id], |r| {
            Ok(SessionInfo {
                id: r.get(0)?,
                created_us: r.get(1)?,
                last_seen_us: r.get(2)?,
                address: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ends the session `id` of `sessions_of(user_id)`; `false` when there is none.
    pub fn end_session_id(&self, user_id: i64, id: i64, reason: EndReason) -> Result<bool> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO ended_sessions (token_hash, reason, ended_us) \
             SELECT token_hash, ?3, ?4 FROM sessions WHERE rowid = ?1 AND user_id = ?2",
            params![id, user_id, reason.as_str(), now_us()],
        )?;
        let n = tx.execute(
            "DELETE FROM sessions WHERE rowid = ?1 AND user_id = ?2",
            params![id, user_id],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// Ends every session of a user (a second factor reset, say), remembering why.
    pub fn end_sessions_of(&self, user_id: i64, reason: EndReason) -> Result<()> {
        let mut c = self.durable()?;
        let tx = c.transaction()?;
        end_user_sessions(&tx, user_id, reason, now_us())?;
        tx.commit()?;
        Ok(())
    }

    /// Keeps a one-time login link for `user_id` until `expires_us`.
    pub fn add_login_link(&self, token_hash: &[u8], user_id: i64, expires_us: i64) -> Result<()> {
        self.durable()?.execute(
            "INSERT INTO login_links (token_hash, user_id, expires_us) VALUES (?1, ?2, ?3)",
            params![token_hash, user_id, expires_us],
        )?;
        Ok(())
    }

    /// Takes a login link: its user's id when it is there and has not expired.
    /// It is gone afterwards either way, and so are the links that expired.
    pub fn take_login_link(&self, token_hash: &[u8], now_us: i64) -> Result<Option<i64>> {
        let c = self.durable()?;
        let found: Option<(i64, i64)> = c
            .query_row(
                "DELETE FROM login_links WHERE token_hash = ?1 RETURNING user_id, expires_us",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        c.execute("DELETE FROM login_links WHERE expires_us <= ?1", [now_us])?;
        Ok(found.and_then(|(id, expires)| (now_us < expires).then_some(id)))
    }

    /// Why a session that is no longer in the table ended.
    pub fn session_end(&self, token_hash: &[u8]) -> Result<EndReason> {
        let r: Option<String> = self
            .conn()
            .query_row(
                "SELECT reason FROM ended_sessions WHERE token_hash = ?1",
                [token_hash],
                |r| r.get(0),
            )
            .optional()?;
        Ok(r.map_or(EndReason::Unknown, |r| EndReason::parse(&r)))
    }

    /// Deletes sessions idle since before `idle_before_us` or created before
    /// `created_before_us`, and forgets old reasons.
    pub fn purge_sessions(&self, idle_before_us: i64, created_before_us: i64) -> Result<usize> {
        let c = self.durable()?;
        c.execute(
            "DELETE FROM ended_sessions WHERE ended_us < ?1",
            [now_us() - ENDED_KEPT_US],
        )?;
        Ok(c.execute(
            "DELETE FROM sessions WHERE last_seen_us < ?1 OR created_us < ?2",
            params![idle_before_us, created_before_us],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_link_is_taken_once_and_only_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        assert!(store.add_user("ann", Role::Admin, "h", &[], 0).unwrap());
        let id = store.user_by_name("ann").unwrap().unwrap().id;
        store.add_login_link(b"one", id, 100).unwrap();
        store.add_login_link(b"two", id, 100).unwrap();
        assert_eq!(store.take_login_link(b"one", 50).unwrap(), Some(id));
        assert_eq!(store.take_login_link(b"one", 50).unwrap(), None, "used");
        assert_eq!(store.take_login_link(b"zzz", 50).unwrap(), None, "unknown");
        assert_eq!(store.take_login_link(b"two", 100).unwrap(), None, "expired");
        store.add_login_link(b"three", id, 100).unwrap();
        assert!(store.remove_user("ann").unwrap());
        assert_eq!(
            store.take_login_link(b"three", 50).unwrap(),
            None,
            "user gone"
        );
    }

    #[test]
    fn expired_sessions_are_purged_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        assert!(store.add_user("ann", Role::Viewer, "h", &[], 0).unwrap());
        let id = store.user_by_name("ann").unwrap().unwrap().id;
        // (token, created, last seen)
        for (t, created, seen) in [(b"idle", 0, 10), (b"old!", 5, 1_000), (b"live", 900, 1_000)] {
            store
                .add_session(t, id, "csrf", created, "127.0.0.1")
                .unwrap();
            store.touch_session(t, seen).unwrap();
        }
        // Idle before 100, or created before 10.
        assert_eq!(store.purge_sessions(100, 10).unwrap(), 2);
        assert!(store.session(b"idle").unwrap().is_none());
        assert!(store.session(b"old!").unwrap().is_none());
        assert!(store.session(b"live").unwrap().is_some());
    }

    #[test]
    fn an_ended_session_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        assert!(store.add_user("ann", Role::Viewer, "h", &[], 0).unwrap());
        let id = store.user_by_name("ann").unwrap().unwrap().id;
        for t in [b"one", b"two"] {
            store.add_session(t, id, "csrf", 0, "127.0.0.1").unwrap();
        }
        store.end_session(b"one", EndReason::LoggedOut).unwrap();
        assert!(store.session(b"one").unwrap().is_none());
        assert_eq!(store.session_end(b"one").unwrap(), EndReason::LoggedOut);
        assert!(store.remove_user("ann").unwrap());
        assert_eq!(store.session_end(b"two").unwrap(), EndReason::UserRemoved);
        assert_eq!(store.session_end(b"nope").unwrap(), EndReason::Unknown);
    }

    #[test]
    fn an_admin_ends_one_session_of_the_user_it_belongs_to() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        for name in ["ann", "bob"] {
            assert!(store.add_user(name, Role::Viewer, "h", &[], 0).unwrap());
        }
        let ann = store.user_by_name("ann").unwrap().unwrap().id;
        let bob = store.user_by_name("bob").unwrap().unwrap().id;
        store.add_session(b"a1", ann, "c", 1, "10.0.0.1").unwrap();
        store.add_session(b"a2", ann, "c", 2, "10.0.0.2").unwrap();
        store.add_session(b"b1", bob, "c", 3, "10.0.0.3").unwrap();
        let open = store.sessions_of(ann).unwrap();
        let addresses: Vec<_> = open.iter().map(|s| s.address.as_str()).collect();
        assert_eq!(addresses, ["10.0.0.2", "10.0.0.1"]);
        let bobs = store.sessions_of(bob).unwrap()[0].id;
        assert!(
            !store
                .end_session_id(ann, bobs, EndReason::EndedByAdmin)
                .unwrap(),
            "not ann's"
        );
        assert!(
            store
                .end_session_id(ann, open[1].id, EndReason::EndedByAdmin)
                .unwrap()
        );
        assert!(store.session(b"a1").unwrap().is_none());
        assert!(store.session(b"a2").unwrap().is_some());
        assert!(store.session(b"b1").unwrap().is_some());
        assert_eq!(store.session_end(b"a1").unwrap(), EndReason::EndedByAdmin);
    }

    #[test]
    fn login_addresses_are_remembered_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hearth.db")).unwrap();
        assert!(store.add_user("ann", Role::Viewer, "h", &[], 0).unwrap());
        let id = store.user_by_name("ann").unwrap().unwrap().id;
        assert!(!store.known_login_address("ann", "10.0.0.2").unwrap());
        store.remember_login_address(id, "10.0.0.2", 5).unwrap();
        store.remember_login_address(id, "10.0.0.2", 6).unwrap();
        assert!(store.known_login_address("ann", "10.0.0.2").unwrap());
        assert!(!store.known_login_address("bob", "10.0.0.2").unwrap());
    }
}
