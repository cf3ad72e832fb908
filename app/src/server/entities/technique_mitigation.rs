use sea_orm::entity::prelude::*;

/// A mitigation of a technique, with ATT&CK's text for that technique.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "technique_mitigations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mitigation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub technique_id: Uuid,
    pub description: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
