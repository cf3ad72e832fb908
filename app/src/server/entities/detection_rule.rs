use crate::domain::detection::RuleSource;
use sea_orm::entity::prelude::*;

/// A detection rule: imported (Sigma, Elastic; keyed by source and upstream id, upstream fields
/// replaced by re-imports) or the team's own (`custom`). `platforms`, `false_positives`,
/// `references` and `techniques` are JSON lists of strings; `notes` and `is_active` are local.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "detection_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source: RuleSource,
    pub upstream_id: Option<String>,
    pub path: Option<String>,
    pub title: String,
    pub description: String,
    pub status: String,
    pub level: String,
    pub author: String,
    pub log_source: String,
    pub platforms: Json,
    pub language: String,
    pub query: String,
    pub false_positives: Json,
    pub references: Json,
    pub license: String,
    pub techniques: Json,
    pub is_active: bool,
    pub notes: String,
    pub content_hash: String,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
