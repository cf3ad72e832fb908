//! Server-only code: state, entities, services. Compiled with the `ssr` feature.
pub mod attack;
pub mod context;
pub mod cookies;
pub mod db;
pub mod entities;
pub mod evidence_store;
pub mod export;
pub mod jobs;
pub mod rate_limit;
pub mod services;
pub mod state;
pub mod templates;
