use sea_orm::entity::prelude::*;

/// One of ATT&CK's campaigns (`C0010`…), imported with the knowledge base. `techniques` is the
/// JSON list of the ATT&CK ids it used, `actors` the ATT&CK ids of the groups it is attributed
/// to.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attack_campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub stix_id: String,
    pub mitre_id: String,
    pub name: String,
    pub aliases: Json,
    pub description: String,
    pub url: Option<String>,
    pub first_seen: Option<DateTimeUtc>,
    pub last_seen: Option<DateTimeUtc>,
    pub techniques: Json,
    pub actors: Json,
    pub modified_at: Option<DateTimeUtc>,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
