//! Wire types shared by the REST API, the server functions and the UI.
pub mod attack;
pub mod audit;
pub mod auth;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod reports;
pub mod templates;
pub mod tests;
pub mod users;

use serde::{Deserialize, Serialize};

/// The one pagination shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;
