use sea_orm::entity::prelude::*;

/// ATT&CK software (`malware` and `tool` objects), kept with the knowledge base so intel can
/// be matched against their names and aliases (`aliases`: a JSON list of strings).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "software")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mitre_id: String,
    pub stix_id: String,
    pub name: String,
    /// `malware` or `tool`, as ATT&CK says.
    pub kind: String,
    pub aliases: Json,
    pub description: String,
    pub url: Option<String>,
    pub modified_at: Option<DateTimeUtc>,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
