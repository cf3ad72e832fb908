//! Services own the rules and the transactions. Each mutation writes its audit entry in the
//! same transaction as the change.
pub mod activity;
pub mod audit;
pub mod custom_techniques;
pub mod evidence;
pub mod jobs;
pub mod knowledge;
pub mod metrics;
pub mod notifications;
pub mod pagination;
pub mod passwords;
pub mod reports;
pub mod scope;
pub mod sessions;
pub mod snapshots;
pub mod technique_sets;
pub mod templates;
pub mod test_workflow;
pub mod tests;
pub mod tokens;
pub mod users;
