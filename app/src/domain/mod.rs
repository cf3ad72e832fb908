//! Pure rules shared by the browser and the server: no I/O, no framework types.
pub mod atomics;
pub mod coverage;
pub mod rbac;
pub mod validation;
pub mod workflow;
