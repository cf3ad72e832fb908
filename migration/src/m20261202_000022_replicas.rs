//! What several server processes on one database must share: the sign-in rate limits (one
//! counter per key and window, updated in one statement) and the scheduled runs (a tick of a
//! schedule makes one run, whichever process fires it first).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    WindowStartMs,
    Attempts,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Job,
    ScheduledFor,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(
                        ColumnDef::new(RateLimits::Key)
                            .string_len(400)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RateLimits::WindowStartMs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RateLimits::Attempts).integer().not_null())
                    .to_owned(),
            )
            .await?;
        // Expired windows are swept by age.
        manager
            .create_index(
                Index::create()
                    .name("rate_limits_window_start")
                    .table(RateLimits::Table)
                    .col(RateLimits::WindowStartMs)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(JobRuns::Table)
                    .add_column(ColumnDef::new(JobRuns::ScheduledFor).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // A tick (seconds since the epoch) of a job's schedule makes at most one run; runs
        // started by people have none, and NULLs never collide.
        manager
            .create_index(
                Index::create()
                    .name("job_runs_schedule_tick")
                    .table(JobRuns::Table)
                    .col(JobRuns::Job)
                    .col(JobRuns::ScheduledFor)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("job_runs_schedule_tick")
                    .table(JobRuns::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(JobRuns::Table)
                    .drop_column(JobRuns::ScheduledFor)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await
    }
}
