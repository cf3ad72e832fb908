//! Worklog entries: who worked on a test, when, for how long and what they did.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorklogEntries {
    Table,
    Id,
    TestId,
    AuthorId,
    Minutes,
    Note,
    StartedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorklogEntries::Table)
                    .col(
                        ColumnDef::new(WorklogEntries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WorklogEntries::TestId).uuid().not_null())
                    .col(ColumnDef::new(WorklogEntries::AuthorId).uuid().not_null())
                    .col(ColumnDef::new(WorklogEntries::Minutes).integer().not_null())
                    .col(ColumnDef::new(WorklogEntries::Note).text().not_null())
                    .col(
                        ColumnDef::new(WorklogEntries::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(WorklogEntries::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WorklogEntries::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorklogEntries::Table, WorklogEntries::TestId)
                            .to(Tests::Table, Tests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorklogEntries::Table, WorklogEntries::AuthorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_worklog_entries_test")
                    .table(WorklogEntries::Table)
                    .col(WorklogEntries::TestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WorklogEntries::Table).to_owned())
            .await
    }
}
