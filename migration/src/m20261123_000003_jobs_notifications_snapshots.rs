//! Background jobs (their runs, progress and results), notifications, weekly coverage
//! snapshots, and local notes on techniques.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Id,
    Job,
    Trigger,
    RequestedBy,
    Status,
    Attempts,
    MaxAttempts,
    Progress,
    Result,
    Error,
    EnqueuedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    Link,
    ReadAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CoverageSnapshots {
    Table,
    Id,
    TakenAt,
    Total,
    Validated,
    Partial,
    InProgress,
    NotCovered,
    CoveragePercent,
    ByTactic,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Techniques {
    Table,
    Notes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .col(ColumnDef::new(JobRuns::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(JobRuns::Job).string_len(64).not_null())
                    .col(ColumnDef::new(JobRuns::Trigger).string_len(16).not_null())
                    .col(ColumnDef::new(JobRuns::RequestedBy).string_len(128).null())
                    .col(ColumnDef::new(JobRuns::Status).string_len(16).not_null())
                    .col(ColumnDef::new(JobRuns::Attempts).integer().not_null())
                    .col(ColumnDef::new(JobRuns::MaxAttempts).integer().not_null())
                    .col(ColumnDef::new(JobRuns::Progress).json().null())
                    .col(ColumnDef::new(JobRuns::Result).json().null())
                    .col(ColumnDef::new(JobRuns::Error).text().null())
                    .col(
                        ColumnDef::new(JobRuns::EnqueuedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JobRuns::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(JobRuns::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_runs_job_enqueued")
                    .table(JobRuns::Table)
                    .col(JobRuns::Job)
                    .col(JobRuns::EnqueuedAt)
                    .to_owned(),
            )
            .await?;
        // At most one active run per job, whichever process or transaction isolation asks:
        // "sync now" twice at once joins the first run instead of queueing a second.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_job_runs_one_active ON job_runs (job) \
                 WHERE status IN ('queued', 'running', 'retrying')",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(
                        ColumnDef::new(Notifications::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notifications::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(Notifications::Kind)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notifications::Title)
                            .string_len(256)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notifications::Body).text().not_null())
                    .col(ColumnDef::new(Notifications::Link).string_len(512).null())
                    .col(
                        ColumnDef::new(Notifications::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Notifications::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user_created")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoverageSnapshots::Table)
                    .col(
                        ColumnDef::new(CoverageSnapshots::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::TakenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::Total)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::Validated)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::Partial)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::InProgress)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::NotCovered)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::CoveragePercent)
                            .double()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverageSnapshots::ByTactic)
                            .json()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Techniques::Table)
                    .add_column(
                        ColumnDef::new(Techniques::Notes)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Techniques::Table)
                    .drop_column(Techniques::Notes)
                    .to_owned(),
            )
            .await?;
        for table in [
            CoverageSnapshots::Table.into_iden(),
            Notifications::Table.into_iden(),
            JobRuns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
