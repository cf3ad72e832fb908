use crate::domain::intel::IntelStatus;
use sea_orm::entity::prelude::*;

/// One item a feed published, found by an intel scan: `summary` is plain text (the HTML
/// stripped), `matches` the `domain::intel::IntelMatch` list, `dedupe_key` its GUID or link.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "intel_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub feed_id: Option<Uuid>,
    pub dedupe_key: String,
    pub guid: Option<String>,
    pub title: String,
    pub link: Option<String>,
    /// The feed's name when the item was found (kept if the feed is removed).
    pub source: String,
    pub published_at: Option<DateTimeUtc>,
    pub summary: String,
    pub matches: Json,
    pub status: IntelStatus,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub notes: String,
    pub first_seen_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
