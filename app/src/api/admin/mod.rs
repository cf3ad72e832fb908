//! Server functions for sign-in, accounts and the audit log.
pub mod audit;
pub mod auth;
pub mod users;
