use sea_orm::entity::prelude::*;

/// One technique of a set, with the layer's score, comment and colour when it had them.
/// `technique_id` is the ATT&CK id, kept even when the knowledge base does not hold it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "technique_set_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub set_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub technique_id: String,
    pub score: Option<f64>,
    pub comment: String,
    pub color: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
