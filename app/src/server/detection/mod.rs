//! Detection rules: listed with filters, read, created (custom) and edited by blue leads and
//! admins. Imports are in `importers::rules`.
pub mod proof;
pub mod report;
pub mod rules;
