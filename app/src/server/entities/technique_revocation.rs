use sea_orm::entity::prelude::*;

/// A revoked ATT&CK technique and the one that replaces it (`revoked-by`), by ATT&CK id:
/// mappings made for older ATT&CK releases are resolved through it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "technique_revocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mitre_id: String,
    pub revoked_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
