use sea_orm::entity::prelude::*;

/// Coverage at one moment. `by_tactic` is a JSON array of
/// `{"tactic", "total", "validated", "partial", "in_progress", "not_covered", "coverage_percent"}`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "coverage_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub taken_at: DateTimeUtc,
    pub total: i32,
    pub validated: i32,
    pub partial: i32,
    pub in_progress: i32,
    pub not_covered: i32,
    pub coverage_percent: f64,
    pub by_tactic: Json,
    /// The mean score weighted by priority (snapshots from before scoring have none).
    pub score: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
