//! One module per page.
pub mod audit;
pub mod login;
pub mod profile;
pub mod user_edit;
pub mod users;
