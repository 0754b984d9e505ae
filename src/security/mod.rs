//! Security building blocks shared by the web server and the CLI: password
//! hashing, session tokens, one-time passwords, the audit log (chain and head), user accounts and
//! login rate limiting.

pub mod accounts;
pub mod audit_chain;
pub mod audit_log;
pub mod file_modes;
pub mod first_password;
pub mod password;
pub mod ratelimit;
pub mod refusals;
pub mod session;
pub mod token;
pub mod totp;
