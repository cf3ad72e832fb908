//! One module per page, grouped by area as the server's services are.
pub mod account;
pub mod admin;
pub mod campaigns;
pub mod catalog;
pub mod compliance;
pub mod detection;
pub mod intel;
pub mod knowledge;
pub mod reporting;
pub mod scoring;
pub mod workflow;
