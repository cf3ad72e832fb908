//! Technique sets (ATT&CK Navigator layers imported as named lists of techniques, e.g. a
//! threat-intel team's priorities) and the indexes the dashboard metrics read by: audit events
//! of one kind in a date range, and tests by creation date.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TechniqueSets {
    Table,
    Id,
    Name,
    Description,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TechniqueSetItems {
    Table,
    SetId,
    TechniqueId,
    Score,
    Comment,
    Color,
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Action,
    OccurredAt,
}

#[derive(DeriveIden)]
enum Tests {
    Table,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TechniqueSets::Table)
                    .col(
                        ColumnDef::new(TechniqueSets::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TechniqueSets::Name).string().not_null())
                    .col(ColumnDef::new(TechniqueSets::Description).text().not_null())
                    .col(ColumnDef::new(TechniqueSets::CreatedBy).uuid().null())
                    .col(
                        ColumnDef::new(TechniqueSets::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TechniqueSets::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_technique_sets_name")
                    .table(TechniqueSets::Table)
                    .col(TechniqueSets::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TechniqueSetItems::Table)
                    .col(ColumnDef::new(TechniqueSetItems::SetId).uuid().not_null())
                    .col(
                        ColumnDef::new(TechniqueSetItems::TechniqueId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TechniqueSetItems::Score).double().null())
                    .col(ColumnDef::new(TechniqueSetItems::Comment).text().not_null())
                    .col(ColumnDef::new(TechniqueSetItems::Color).string().null())
                    .primary_key(
                        Index::create()
                            .col(TechniqueSetItems::SetId)
                            .col(TechniqueSetItems::TechniqueId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TechniqueSetItems::Table, TechniqueSetItems::SetId)
                            .to(TechniqueSets::Table, TechniqueSets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_logs_action_time")
                    .table(AuditLogs::Table)
                    .col(AuditLogs::Action)
                    .col(AuditLogs::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tests_created_at")
                    .table(Tests::Table)
                    .col(Tests::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_tests_created_at")
                    .table(Tests::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_audit_logs_action_time")
                    .table(AuditLogs::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TechniqueSetItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TechniqueSets::Table).to_owned())
            .await
    }
}
