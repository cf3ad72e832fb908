//! HTTP integration tests: a real server, real SQLite and PostgreSQL. Helpers may panic
//! freely: a panic is a failed test.
#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

mod api_tokens;
mod atomics_import;
mod attack;
mod audit;
mod auth;
mod bad_input;
mod campaigns;
mod catalog_sources;
mod custom_techniques;
mod d3fend;
mod detection_rules;
mod evidence;
mod fake_mitre;
mod faults;
mod hardening;
mod http_behaviour;
mod intel;
mod jobs;
mod lifecycle;
mod mitigations;
mod notifications;
mod openapi;
mod procedures;
mod process;
mod read_paths;
mod replicas;
mod reports;
mod rule_validation;
mod scoring;
mod sso;
mod templates;
mod users;
mod webhooks;
mod workflow;
mod worklog;
