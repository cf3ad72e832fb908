use crate::domain::d3fend::D3fendTactic;
use sea_orm::entity::prelude::*;

/// A D3FEND defensive technique (`D3-TB` Token Binding), as the ontology defines it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "d3fend_techniques")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub d3fend_id: String,
    /// The ontology class (`TokenBinding`): D3FEND's pages are named by it.
    pub class_name: String,
    pub name: String,
    pub tactic: D3fendTactic,
    pub parent_d3fend_id: Option<String>,
    pub definition: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
