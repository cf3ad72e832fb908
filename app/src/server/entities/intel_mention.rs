use crate::domain::intel::MentionKind;
use sea_orm::entity::prelude::*;

/// One technique, actor or piece of software an intel item mentions, by ATT&CK id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "intel_mentions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: MentionKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub mitre_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
