use crate::domain::visibility::DataQuality;
/// One of ATT&CK's data components (DC…), and whether the team collects it.
use sea_orm::entity::prelude::*;
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "data_components")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mitre_id: String,
    pub stix_id: Option<String>,
    pub name: String,
    pub description: String,
    pub data_source: String,
    pub deprecated: bool,
    pub collected: bool,
    pub quality: DataQuality,
    pub notes: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
