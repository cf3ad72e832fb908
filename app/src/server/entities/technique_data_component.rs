/// A data component that can detect a technique (technique by ATT&CK id).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "technique_data_components")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub technique_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub component_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
