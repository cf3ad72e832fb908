//! Free-text search over tests (`GET /tests?search=`) and the template catalog is a
//! `LIKE '%…%'`, which no B-tree serves. On PostgreSQL trigram indexes do, when `pg_trgm` is
//! available (a trusted extension since PostgreSQL 13); without it search still works, by
//! scanning.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &str); 5] = [
    ("ix_tests_title_trgm", "tests", "title"),
    ("ix_tests_technique_trgm", "tests", "technique_id"),
    ("ix_test_templates_name_trgm", "test_templates", "name"),
    (
        "ix_test_templates_technique_trgm",
        "test_templates",
        "technique_id",
    ),
    (
        "ix_test_templates_description_trgm",
        "test_templates",
        "description",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let available = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'pg_trgm'",
            ))
            .await?
            .is_some();
        if !available {
            return Ok(());
        }
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            .await?;
        // A search matches any of these columns: each needs its index for the OR to use them.
        for (name, table, column) in INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (lower({column}) gin_trgm_ops)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            for (name, _, _) in INDEXES {
                db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                    .await?;
            }
        }
        Ok(())
    }
}
