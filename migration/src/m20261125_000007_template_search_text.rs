//! Catalog search matched `lower(name)`, `lower(technique_id)` and `lower(description)` row by
//! row; with ~17,000 templates that lowering dominated the query. The database now keeps the
//! lower-cased text itself: PostgreSQL stores it when a row is written, SQLite (whose
//! `ALTER TABLE` can only add virtual generated columns) computes it in one pass on read.
//! Being generated, no write path can forget to fill it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const EXPRESSION: &str = "lower(technique_id || ' ' || name || ' ' || description)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let storage = match manager.get_database_backend() {
            DbBackend::Postgres => "STORED",
            _ => "VIRTUAL",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE test_templates ADD COLUMN search_text TEXT \
                 GENERATED ALWAYS AS ({EXPRESSION}) {storage}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE test_templates DROP COLUMN search_text")
            .await?;
        Ok(())
    }
}
