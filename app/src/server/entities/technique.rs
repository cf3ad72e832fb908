use crate::domain::coverage::CoverageStatus;
use sea_orm::entity::prelude::*;

/// `platforms`, `tactics` (tactic shortnames) and `data_sources` are JSON arrays of strings.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "techniques")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mitre_id: String,
    pub stix_id: Option<String>,
    pub parent_mitre_id: Option<String>,
    pub is_subtechnique: bool,
    pub name: String,
    pub description: String,
    pub platforms: Json,
    pub tactics: Json,
    pub data_sources: Json,
    pub detection: String,
    pub url: Option<String>,
    pub version: Option<String>,
    pub modified_at: Option<DateTimeUtc>,
    pub deprecated: bool,
    pub revoked: bool,
    pub is_custom: bool,
    pub coverage_status: CoverageStatus,
    pub review_required: bool,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The team's own notes; never touched by a sync.
    pub notes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
