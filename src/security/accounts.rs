//! User accounts: adding, changing passwords and permissions, removing, and the
//! first admin. Every change is written to the audit log. Used by the CLI and the
//! web; blocking.

use super::audit_chain::{Record, action};
use super::audit_log::AuditLog;
use super::{password, token};
use crate::store::{Role, Store};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no user named {0:?}")]
    NoSuchUser(String),
    #[error("{0:?} has no such session")]
    NoSuchSession(String),
    #[error("a user named {0:?} exists already")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Other(#[from] anyhow::Error),
}

/// Who made a change, for the audit log.
pub struct Actor<'a> {
    pub user: &'a str,
    pub address: Option<&'a str>,
}

pub struct Accounts<'a> {
    pub store: &'a Store,
    pub audit: &'a AuditLog,
    /// Camera names that exist; permissions must name these.
    pub cameras: Vec<String>,
}

impl Accounts<'_> {
    fn log(&self, by: &Actor<'_>, what: &str, detail: String) -> Result<(), AccountError> {
        self.audit.append(Record {
            user: Some(by.user.to_owned()),
            address: by.address.map(str::to_owned),
            action: what.to_owned(),
            detail: Some(detail),
            ..Record::default()
        })?;
        Ok(())
    }

    fn check_cameras(&self, cameras: &[String]) -> Result<(), AccountError> {
        for c in cameras {
            if !self.cameras.contains(c) {
                return Err(AccountError::Invalid(format!(
                    "there is no camera named {c:?}"
                )));
            }
        }
        Ok(())
    }

    /// Refuses a change that would leave Hearth with no admin: `name`'s role
    /// after it (`None`: removed).
    fn keep_an_admin(&self, name: &str, after: Option<Role>) -> Result<(), AccountError> {
        let admins = self
            .store
            .users()?
            .into_iter()
            .filter(|u| u.role == Role::Admin)
            .filter(|u| u.name != name || after == Some(Role::Admin))
            .count();
        if admins == 0 {
            return Err(AccountError::Invalid(
                "Hearth needs at least one admin: make another user an admin first".into(),
            ));
        }
        Ok(())
    }

    pub fn add(
        &self,
        by: &Actor<'_>,
        name: &str,
        role: Role,
        password: &str,
        cameras: &[String],
    ) -> Result<(), AccountError> {
        if !crate::config::valid_name(name) {
            return Err(AccountError::Invalid(
                "a user name is 1 to 64 letters, digits, '-' or '_'".into(),
            ));
        }
        password::check_new(password).map_err(AccountError::Invalid)?;
        self.check_cameras(cameras)?;
        let hash = password::hash(password).map_err(AccountError::Invalid)?;
        let now = chrono::Utc::now().timestamp_micros();
        if !self.store.add_user(name, role, &hash, cameras, now)? {
            return Err(AccountError::Exists(name.to_owned()));
        }
        self.log(
            by,
            action::USER_ADD,
            format!("{name} ({}) cameras: {}", role.as_str(), cameras.join(",")),
        )
    }

    pub fn set_password(
        &self,
        by: &Actor<'_>,
        name: &str,
        password: &str,
    ) -> Result<(), AccountError> {
        password::check_new(password).map_err(AccountError::Invalid)?;
        let hash = password::hash(password).map_err(AccountError::Invalid)?;
        if !self.store.set_password(name, &hash)? {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        }
        self.log(by, action::PASSWORD_CHANGE, name.to_owned())
    }

    pub fn set_permissions(
        &self,
        by: &Actor<'_>,
        name: &str,
        role: Role,
        cameras: &[String],
    ) -> Result<(), AccountError> {
        self.check_cameras(cameras)?;
        self.keep_an_admin(name, Some(role))?;
        if !self.store.set_permissions(name, role, cameras)? {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        }
        self.log(
            by,
            action::PERMISSION_CHANGE,
            format!("{name} ({}) cameras: {}", role.as_str(), cameras.join(",")),
        )
    }

    pub fn remove(&self, by: &Actor<'_>, name: &str) -> Result<(), AccountError> {
        self.keep_an_admin(name, None)?;
        if !self.store.remove_user(name)? {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        }
        self.log(by, action::USER_REMOVE, name.to_owned())
    }

    /// Turns a user's second factor off (a lost phone) and ends their sessions.
    pub fn reset_second_factor(&self, by: &Actor<'_>, name: &str) -> Result<(), AccountError> {
        let user = self
            .store
            .user_by_name(name)?
            .ok_or_else(|| AccountError::NoSuchUser(name.to_owned()))?;
        self.store.disable_totp(user.id)?;
        self.store
            .end_sessions_of(user.id, crate::store::EndReason::SecondFactorChanged)?;
        self.log(by, action::TOTP_RESET, name.to_owned())
    }

    /// Ends one of a user's sessions (`SessionInfo::id`): a device lost or left logged in.
    pub fn end_session(&self, by: &Actor<'_>, name: &str, id: i64) -> Result<(), AccountError> {
        let user = self
            .store
            .user_by_name(name)?
            .ok_or_else(|| AccountError::NoSuchUser(name.to_owned()))?;
        let address = self
            .store
            .sessions_of(user.id)?
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.address)
            .ok_or_else(|| AccountError::NoSuchSession(name.to_owned()))?;
        if !self
            .store
            .end_session_id(user.id, id, crate::store::EndReason::EndedByAdmin)?
        {
            return Err(AccountError::NoSuchSession(name.to_owned()));
        }
        self.log(
            by,
            action::SESSION_END,
            format!("{name}'s session from {address}"),
        )
    }

    /// A one-time login link's token for `name`, good for `valid_us` from now
    /// (see `web::login_link`).
    pub fn login_link(
        &self,
        by: &Actor<'_>,
        name: &str,
        valid_us: i64,
    ) -> Result<String, AccountError> {
        let user = self
            .store
            .user_by_name(name)?
            .ok_or_else(|| AccountError::NoSuchUser(name.to_owned()))?;
        let tok = token::random_token();
        let expires = chrono::Utc::now()
            .timestamp_micros()
            .saturating_add(valid_us);
        self.store
            .add_login_link(&token::digest(&tok), user.id, expires)?;
        self.log(
            by,
            action::LOGIN_LINK,
            format!("for {name}, good once for {} min", valid_us / 60_000_000),
        )?;
        Ok(tok)
    }

    /// With no users at all, creates `admin` with a random password and returns it.
    pub fn ensure_admin(&self) -> Result<Option<String>, AccountError> {
        if self.store.user_count()? > 0 {
            return Ok(None);
        }
        let pw = token::random_password();
        let by = Actor {
            user: "hearth",
            address: None,
        };
        self.add(&by, "admin", Role::Admin, &pw, &[])?;
        Ok(Some(pw))
    }
}
