//! Accounts, sign-in and the audit log on the wire.
pub mod audit;
pub mod auth;
pub mod users;
