use sea_orm::entity::prelude::*;

/// A webhook endpoint. `events` is the JSON list of the `domain::webhooks::WebhookEvent`s it
/// subscribes to; `secret` signs its deliveries and never leaves the server.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub secret: String,
    pub description: String,
    pub events: Json,
    pub is_active: bool,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
