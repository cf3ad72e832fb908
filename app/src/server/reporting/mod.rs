//! Dashboard metrics, reports and exports, the activity counters and coverage snapshots.
pub mod activity;
pub mod export;
pub mod metrics;
pub mod reports;
pub mod scope;
pub mod snapshots;
