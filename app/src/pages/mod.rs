//! One module per page.
pub mod actors;
pub mod audit;
pub mod catalog;
pub mod dashboard;
pub mod login;
pub mod matrix;
pub mod profile;
pub mod reports;
pub mod system;
pub mod technique;
pub mod test_detail;
pub mod test_new;
pub mod tests;
pub mod user_edit;
pub mod users;
