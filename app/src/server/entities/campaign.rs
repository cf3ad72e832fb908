use crate::domain::campaigns::CampaignStatus;
use sea_orm::entity::prelude::*;

/// A testing campaign. `recurrence` is a `domain::campaigns::Recurrence` as JSON, on the
/// first campaign of a series only; the runs the recurring job spawns carry the series' id
/// (`series_id`, the first campaign's own id on the first) and their period number.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub objective: String,
    pub threat_actor_id: Option<Uuid>,
    pub attack_campaign_id: Option<Uuid>,
    pub technique_set_id: Option<Uuid>,
    pub target_environment: String,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub owner_id: Option<Uuid>,
    pub status: CampaignStatus,
    pub recurrence: Option<Json>,
    pub series_id: Option<Uuid>,
    pub period: Option<i32>,
    pub completed_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
