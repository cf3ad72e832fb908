//! Catalog search matched `lower(name)`, `lower(technique_id)` and `lower(description)` row by
//! row; with ~17,000 templates that dominated the query. The database now keeps the searchable
//! text itself, and PostgreSQL indexes it for `LIKE '%…%'`:
//! - PostgreSQL stores the lower-cased text when a row is written and keeps a trigram (GIN)
//!   index on it when `pg_trgm` is available (it ships with PostgreSQL; without it the search
//!   still works, by a scan);
//! - SQLite's `ALTER TABLE` can only add virtual generated columns, computed on read; its
//!   `LIKE` ignores ASCII case, as its `lower()` only folds ASCII, so the text is not lowered.
//!
//! Being generated, no write path can forget to fill it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TEXT: &str = "technique_id || ' ' || name || ' ' || description";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&format!(
                "ALTER TABLE test_templates ADD COLUMN search_text TEXT \
                 GENERATED ALWAYS AS (lower({TEXT})) STORED"
            ))
            .await?;
            let available = db
                .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'",
                ))
                .await?
                .is_some();
            if available {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_test_templates_search_text ON test_templates \
                     USING gin (search_text gin_trgm_ops)",
                )
                .await?;
            }
        } else {
            db.execute_unprepared(&format!(
                "ALTER TABLE test_templates ADD COLUMN search_text TEXT \
                 GENERATED ALWAYS AS ({TEXT}) VIRTUAL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS ix_test_templates_search_text")
            .await?;
        db.execute_unprepared("ALTER TABLE test_templates DROP COLUMN search_text")
            .await?;
        Ok(())
    }
}
