use sea_orm::entity::prelude::*;

/// An admin's ATT&CK techniques for one GTFOBins function (`techniques`: a JSON list of ids),
/// used by GTFOBins imports in place of the table's defaults.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "gtfobins_overrides")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub function: String,
    pub techniques: Json,
    pub updated_by: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
