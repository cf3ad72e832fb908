//! Server-only code, compiled with the `ssr` feature, one folder per area. A request's path
//! reads like a sentence: `platform` finds the caller, an area's service checks the rules of
//! `crate::domain` inside one transaction and writes the audit entry, an entity stores it.
pub mod admin;
pub mod campaigns;
pub mod catalog;
pub mod compliance;
pub mod detection;
pub mod entities;
pub mod importers;
pub mod intel;
pub mod jobs;
pub mod knowledge;
pub mod platform;
pub mod reporting;
pub mod scoring;
pub mod webhooks;
pub mod workflow;
