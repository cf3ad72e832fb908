//! The template catalog takes procedures from more sources (CALDERA, LOLBAS, GTFOBins), under
//! different licences: every template stores its licence and where to read it upstream, and
//! the fields only its source has (`details`, JSON shaped by the source; see
//! `app::dto::catalog::SourceDetails`). Templates already imported get their licence and
//! upstream page now.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TestTemplates {
    Table,
    License,
    SourceUrl,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            ColumnDef::new(TestTemplates::License)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(TestTemplates::SourceUrl)
                .string_len(500)
                .null()
                .to_owned(),
            ColumnDef::new(TestTemplates::Details)
                .json()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TestTemplates::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE test_templates SET license = 'MIT', source_url = \
             'https://github.com/redcanaryco/atomic-red-team/blob/master/atomics/' \
             || technique_id || '/' || technique_id || '.md' \
             WHERE source = 'atomic_red_team'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE test_templates SET license = 'ATT&CK Terms of Use', source_url = \
             'https://attack.mitre.org/techniques/' || REPLACE(technique_id, '.', '/') || '/' \
             WHERE source = 'mitre'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            TestTemplates::License,
            TestTemplates::SourceUrl,
            TestTemplates::Details,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TestTemplates::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
