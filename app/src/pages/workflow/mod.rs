//! Tests: the list, the new-test form and a test's page.
pub mod detail;
mod fired_rules;
pub mod list;
pub mod new;
mod remediation;
mod worklog;
