//! Sign-in, accounts, the audit log and the System panel's endpoints.
pub mod audit;
pub mod auth;
pub mod system;
pub mod users;
