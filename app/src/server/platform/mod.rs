//! What every area stands on: the shared state, database access, the caller's identity and
//! cookies, the audit writer, notifications, paging, rate limiting, the versioned read cache
//! and bounded uploads.
pub mod audit;
pub mod context;
pub mod cookies;
pub mod db;
pub mod notifications;
pub mod pagination;
pub mod rate_limit;
pub mod read_cache;
pub mod state;
pub mod upload;
