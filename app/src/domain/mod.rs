//! Pure rules shared by the browser and the server: no I/O, no framework types.
pub mod audit;
pub mod cache;
pub mod coverage;
pub mod d3fend;
pub mod detection;
pub mod gtfobins;
pub mod intel;
pub mod notices;
pub mod rbac;
pub mod sources;
pub mod tallies;
pub mod test_input;
pub mod timer;
pub mod validation;
pub mod values;
pub mod workflow;
pub mod worklog;
