//! Accounts and sessions: users, passwords, sign-in sessions and revoked tokens.
pub mod api_tokens;
pub mod passwords;
pub mod sessions;
pub mod sso;
pub mod tokens;
pub mod users;
