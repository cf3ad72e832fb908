//! An installation's own ATT&CK techniques for a GTFOBins function, in place of the defaults of
//! Aegis's table (`app::domain::gtfobins`); the next GTFOBins import applies them.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GtfobinsOverrides {
    Table,
    Function,
    Techniques,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GtfobinsOverrides::Table)
                    .col(
                        ColumnDef::new(GtfobinsOverrides::Function)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GtfobinsOverrides::Techniques)
                            .json()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GtfobinsOverrides::UpdatedBy)
                            .string_len(150)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(GtfobinsOverrides::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GtfobinsOverrides::Table).to_owned())
            .await
    }
}
