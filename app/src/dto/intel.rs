//! Threat-intel monitoring: feeds, the items scans found in them, and what they mention.
use crate::domain::intel::{FeedKind, IntelMatch, IntelStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntelFeedDto {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    /// As configured, or as the last fetch detected it.
    pub kind: Option<FeedKind>,
    pub is_active: bool,
    pub tags: Vec<String>,
    pub last_fetched_at: Option<DateTime<Utc>>,
    /// `ok`, `not_modified` or `error`.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    /// New items the last fetch found.
    pub last_new_items: i32,
    /// Items found in this feed so far.
    pub item_count: u64,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateFeedRequest {
    pub name: String,
    pub url: String,
    /// `rss`, `atom` or `json_feed`; detected from the document when omitted.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateFeedRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// An empty string clears it (detect again).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// A feed of the README's seed list, which an admin can add in one click.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SeedFeed {
    pub name: String,
    pub url: String,
    pub kind: FeedKind,
    pub tags: Vec<String>,
    /// Whether a feed with this URL is already subscribed.
    pub added: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntelItemDto {
    pub id: Uuid,
    pub feed_id: Option<Uuid>,
    pub title: String,
    pub link: Option<String>,
    /// The feed it came from.
    pub source: String,
    pub published_at: Option<DateTime<Utc>>,
    /// Plain text; the feed's HTML stripped.
    pub summary: String,
    pub matches: Vec<IntelMatch>,
    /// The ATT&CK ids of the techniques it mentions.
    pub techniques: Vec<String>,
    /// The ATT&CK ids of the threat actors it mentions.
    pub actors: Vec<String>,
    pub status: IntelStatus,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub notes: String,
    pub first_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntelQuery {
    /// An ATT&CK technique id; a parent also finds items about its sub-techniques.
    #[serde(default)]
    pub technique: Option<String>,
    /// A threat actor's ATT&CK id (`G0016`).
    #[serde(default)]
    pub actor: Option<String>,
    /// A feed's id or name.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Published (or, without a date, first seen) on or after this day.
    #[serde(default)]
    pub since: Option<NaiveDate>,
    /// Published (or first seen) on or before this day.
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// In the title or summary.
    #[serde(default)]
    pub search: Option<String>,
    /// Only items that mention something in the knowledge base.
    #[serde(default)]
    pub matched: Option<bool>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateIntelRequest {
    /// `new`, `relevant` or `dismissed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// What one feed's fetch and import did in a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FeedScanReport {
    pub feed_id: Option<Uuid>,
    pub feed: String,
    /// `ok`, `not_modified` or `error`.
    pub status: String,
    pub error: Option<String>,
    pub kind: Option<FeedKind>,
    /// Entries in the document.
    pub entries: usize,
    pub added: usize,
    /// Entries already known (from an earlier scan, another feed or this document).
    pub duplicates: usize,
    /// Entries with neither a title nor a link, with why.
    pub skipped: Vec<String>,
    /// The techniques the new items mention.
    pub techniques: Vec<String>,
}

/// What a whole scan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntelScanReport {
    pub feeds: Vec<FeedScanReport>,
    pub new_items: usize,
    /// Mentioned techniques that are not covered or not validated lately, which leads heard
    /// about.
    pub flagged_techniques: Vec<String>,
}

/// The latest intel about one technique or actor, for their pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntelMentions {
    pub items: Vec<IntelItemDto>,
    pub total: u64,
}
