/// A technique (ATT&CK id) a control is mapped to.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "compliance_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub control_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub technique_id: String,
    pub mapping_type: String,
    pub comments: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
