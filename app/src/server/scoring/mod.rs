//! The scoring engine's services: the versioned configuration (`config`), the inputs of each
//! technique (`inputs`), computing and storing scores (`compute`) and reading them (`reads`).
//! The formula is `domain::scoring`.
pub mod compute;
pub mod config;
pub mod inputs;
pub mod reads;
