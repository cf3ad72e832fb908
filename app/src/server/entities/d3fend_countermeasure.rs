use sea_orm::entity::prelude::*;

/// A D3FEND technique that counters an ATT&CK technique (by ATT&CK id, which the knowledge
/// base may not hold), with the artifact links that join them
/// (`domain::d3fend::ArtifactLink`s, the most specific first).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "d3fend_countermeasures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub attack_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub d3fend_technique_id: Uuid,
    pub links: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
