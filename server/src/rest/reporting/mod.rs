//! Dashboard metrics and reports.
pub mod metrics;
pub mod reports;
