/// A technique's score, priority and gap as last computed, by ATT&CK id. `factors` is
/// `{"score": [Contribution], "priority": [Contribution]}`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "technique_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub technique_id: String,
    pub score: f64,
    pub priority: f64,
    pub gap: f64,
    pub visibility: Option<f64>,
    pub stale: bool,
    pub factors: Json,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
