use crate::domain::values::RemediationStatus;
use sea_orm::entity::prelude::*;

/// One step of a test's remediation, in `position` order.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "remediation_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub test_id: Uuid,
    pub position: i32,
    pub title: String,
    pub notes: String,
    pub status: RemediationStatus,
    pub assignee_id: Option<Uuid>,
    pub due_date: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
