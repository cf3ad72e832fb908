use sea_orm::entity::prelude::*;

/// A detection rule that fired in a test, as its blue team recorded it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "test_fired_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub test_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub rule_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
