//! Administration: users, the audit log and the System panel.
pub mod audit;
pub mod system;
pub mod user_edit;
pub mod users;
