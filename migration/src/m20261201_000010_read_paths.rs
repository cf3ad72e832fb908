//! Read paths at real size (100,000 tests): test counts kept as tests change, and the versions
//! behind which near-static answers are cached.
//!
//! - `test_tallies`: tests per state under each dimension a list filters by (all tests, a
//!   technique, a platform, a creator, a campaign), maintained in each change's transaction
//!   (`app::domain::tallies`), counted here once for the tests already there. UUID keys are
//!   32 lower-case hex digits on both backends.
//! - `cache_versions`: one counter per cache scope (`app::domain::cache::CacheScope`), bumped
//!   by the audit writer in the transaction of every change that makes cached answers stale.
//! - An index for the newest tests of one technique (the test list filtered by technique).
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
    TechniqueId,
    UpdatedAt,
}

/// The cache scopes, as `CacheScope` names them.
const SCOPES: [&str; 3] = ["knowledge", "tests", "snapshots"];

fn backfill(backend: DbBackend) -> Vec<String> {
    let uuid_key = |col: &str| match backend {
        DbBackend::Postgres => format!("replace({col}::text, '-', '')"),
        _ => format!("lower(hex({col}))"),
    };
    let creator = uuid_key("created_by");
    let campaign = uuid_key("campaign_id");
    // PostgreSQL refuses a constant in GROUP BY: "all" groups by state alone.
    [
        ("'all'", "''".to_owned(), "1 = 1", "state".to_owned()),
        (
            "'technique'",
            "technique_id".to_owned(),
            "1 = 1",
            "technique_id, state".to_owned(),
        ),
        (
            "'platform'",
            "platform".to_owned(),
            "platform IS NOT NULL",
            "platform, state".to_owned(),
        ),
        (
            "'creator'",
            creator.clone(),
            "1 = 1",
            format!("{creator}, state"),
        ),
        (
            "'campaign'",
            campaign.clone(),
            "campaign_id IS NOT NULL",
            format!("{campaign}, state"),
        ),
    ]
    .into_iter()
    .map(|(dimension, key, condition, group)| {
        format!(
            "INSERT INTO test_tallies (dimension, tally_key, state, count) \
             SELECT {dimension}, {key}, state, COUNT(*) FROM tests WHERE {condition} \
             GROUP BY {group}"
        )
    })
    .collect()
}

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
        for sql in backfill(manager.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
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
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_tests_technique_updated")
                    .table(Tests::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CacheVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TestTallies::Table).to_owned())
            .await
    }
}
