//! Administration: users, the audit log and the System panel.
pub mod audit;
pub mod compliance_import;
mod d3fend_import;
mod intel_feeds;
pub mod system;
pub mod user_edit;
pub mod users;
mod webhooks;
