//! The detection rules that fired in a test, as its blue team recorded them: what proves a
//! rule (a validated test says it fired) or shows it failing.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TestFiredRules {
    Table,
    TestId,
    RuleId,
}

#[derive(DeriveIden)]
enum Tests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DetectionRules {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TestFiredRules::Table)
                    .col(ColumnDef::new(TestFiredRules::TestId).uuid().not_null())
                    .col(ColumnDef::new(TestFiredRules::RuleId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(TestFiredRules::TestId)
                            .col(TestFiredRules::RuleId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TestFiredRules::Table, TestFiredRules::TestId)
                            .to(Tests::Table, Tests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TestFiredRules::Table, TestFiredRules::RuleId)
                            .to(DetectionRules::Table, DetectionRules::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_test_fired_rules_rule")
                    .table(TestFiredRules::Table)
                    .col(TestFiredRules::RuleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TestFiredRules::Table).to_owned())
            .await
    }
}
