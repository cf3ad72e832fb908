//! Read paths at real size (100,000 tests): test counts kept as tests change, and the versions
//! behind which near-static answers are cached.
//!
//! - `test_tallies`: tests per state under each dimension a list filters by (all tests, a
//!   technique, a platform, a creator, a campaign, the assignees, the sides still to vote),
//!   maintained in each change's transaction (`app::domain::tallies`). The tests already
//!   there are counted by the server right after the migrations
//!   (`workflow::tallies::build_if_missing`), with the same rule as every change, rather than
//!   restated here in SQL. UUID keys are 32 lower-case hex digits on both backends.
//! - `cache_versions`: one counter per cache scope (`app::domain::cache::CacheScope`), bumped
//!   by the audit writer in the transaction of every change that makes cached answers stale.
//! - Indexes for the test list's order (newest change first, the id breaking ties: deep pages
//!   are read from the index alone), for the newest tests of one technique, and on
//!   PostgreSQL trigram indexes for its text search (title and technique id, lower-cased as
//!   the search compares them), when `pg_trgm` is available.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TestTallies {
    Table,
    Dimension,
    TallyKey,
    State,
    Count,
}

#[derive(DeriveIden)]
enum CacheVersions {
    Table,
    Scope,
    Version,
}

#[derive(DeriveIden)]
enum Tests {
    Table,
    Id,
    TechniqueId,
    UpdatedAt,
}

/// The trigram indexes of the test search (PostgreSQL with `pg_trgm`).
const TRIGRAM: [(&str, &str); 2] = [
    ("ix_tests_title_trgm", "title"),
    ("ix_tests_technique_trgm", "technique_id"),
];

/// The cache scopes, as `CacheScope` names them.
const SCOPES: [&str; 3] = ["knowledge", "tests", "snapshots"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TestTallies::Table)
                    .col(
                        ColumnDef::new(TestTallies::Dimension)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(TestTallies::TallyKey).text().not_null())
                    .col(ColumnDef::new(TestTallies::State).string_len(32).not_null())
                    .col(ColumnDef::new(TestTallies::Count).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(TestTallies::Dimension)
                            .col(TestTallies::TallyKey)
                            .col(TestTallies::State),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        manager
            .create_table(
                Table::create()
                    .table(CacheVersions::Table)
                    .col(
                        ColumnDef::new(CacheVersions::Scope)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CacheVersions::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for scope in SCOPES {
            conn.execute_unprepared(&format!(
                "INSERT INTO cache_versions (scope, version) VALUES ('{scope}', 1)"
            ))
            .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_tests_technique_updated")
                    .table(Tests::Table)
                    .col(Tests::TechniqueId)
                    .col(Tests::UpdatedAt)
                    .col(Tests::Id)
                    .to_owned(),
            )
            .await?;
        // Replaces the single-column index of migration 5, which it covers.
        manager
            .create_index(
                Index::create()
                    .name("ix_tests_updated_id")
                    .table(Tests::Table)
                    .col(Tests::UpdatedAt)
                    .col(Tests::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_tests_updated_at")
                    .table(Tests::Table)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            let available = conn
                .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'",
                ))
                .await?
                .is_some();
            if available {
                conn.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                for (name, column) in TRIGRAM {
                    conn.execute_unprepared(&format!(
                        "CREATE INDEX {name} ON tests USING gin (lower({column}) gin_trgm_ops)"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for (name, _) in TRIGRAM {
            conn.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_tests_updated_at")
                    .table(Tests::Table)
                    .col(Tests::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        for name in ["ix_tests_updated_id", "ix_tests_technique_updated"] {
            manager
                .drop_index(Index::drop().name(name).table(Tests::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(CacheVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TestTallies::Table).to_owned())
            .await
    }
}
