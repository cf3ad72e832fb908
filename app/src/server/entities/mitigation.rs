use sea_orm::entity::prelude::*;

/// An ATT&CK mitigation (`course-of-action`): `M1038` and the like; the deprecated ones of
/// older bundles carry a technique's id instead.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mitigations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mitre_id: String,
    pub stix_id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub modified_at: Option<DateTimeUtc>,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
