//! Tests: the list, the new-test form and a test's page.
pub mod detail;
pub mod list;
pub mod new;
