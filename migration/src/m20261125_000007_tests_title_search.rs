//! Free-text search over test titles (`GET /tests?search=`) is a `LIKE '%…%'`, which no
//! B-tree serves. On PostgreSQL a trigram index does, when `pg_trgm` is available (a trusted
//! extension since PostgreSQL 13); without it the search still works, by scanning.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
        // The search matches the title or the technique id: both need the index.
        for (name, column) in [
            ("ix_tests_title_trgm", "title"),
            ("ix_tests_technique_trgm", "technique_id"),
        ] {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON tests USING gin (lower({column}) gin_trgm_ops)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("DROP INDEX IF EXISTS ix_tests_title_trgm")
                .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS ix_tests_technique_trgm")
                .await?;
        }
        Ok(())
    }
}
