use crate::domain::intel::FeedKind;
use sea_orm::entity::prelude::*;

/// A threat-intel feed an admin subscribed to, with what its last fetch said (`tags`: a JSON
/// list of strings; `etag` and `last_modified` for the next conditional GET).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "intel_feeds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub url: String,
    /// As configured, or as detected by the last fetch.
    pub kind: Option<FeedKind>,
    pub is_active: bool,
    pub tags: Json,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_fetched_at: Option<DateTimeUtc>,
    /// `ok`, `not_modified` or `error`.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub last_new_items: i32,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
