//! The dashboard and the reports.
pub mod dashboard;
pub mod reports;
