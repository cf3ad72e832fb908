//! Dashboard metrics and reports on the wire.
pub mod metrics;
pub mod reports;
