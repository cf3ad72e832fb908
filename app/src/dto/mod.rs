//! Wire types shared by the REST API, the server functions and the UI.
//! Grouped by area, as the server's services are.
pub mod admin;
pub mod campaigns;
pub mod catalog;
pub mod compliance;
pub mod d3fend;
pub mod detection;
pub mod intel;
pub mod jobs;
pub mod knowledge;
pub mod notifications;
pub mod reporting;
pub mod scoring;
pub mod webhooks;
pub mod workflow;

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
