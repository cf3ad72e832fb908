//! Signing in and one's own profile.
pub mod login;
pub mod profile;
