//! ATT&CK mitigations (`course-of-action` objects) and the techniques each mitigates, with
//! ATT&CK's own text for that technique (the `mitigates` relationship's description).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Mitigations {
    Table,
    Id,
    MitreId,
    StixId,
    Name,
    Description,
    Url,
    ModifiedAt,
    Deprecated,
    Revoked,
}

#[derive(DeriveIden)]
enum TechniqueMitigations {
    Table,
    MitigationId,
    TechniqueId,
    Description,
}

#[derive(DeriveIden)]
enum Techniques {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mitigations::Table)
                    .col(
                        ColumnDef::new(Mitigations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Mitigations::MitreId)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Mitigations::StixId)
                            .string_len(128)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Mitigations::Name).string_len(300).not_null())
                    .col(ColumnDef::new(Mitigations::Description).text().not_null())
                    .col(ColumnDef::new(Mitigations::Url).string_len(500).null())
                    .col(
                        ColumnDef::new(Mitigations::ModifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Mitigations::Deprecated)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Mitigations::Revoked)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mitigations_mitre_id")
                    .table(Mitigations::Table)
                    .col(Mitigations::MitreId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TechniqueMitigations::Table)
                    .col(
                        ColumnDef::new(TechniqueMitigations::MitigationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TechniqueMitigations::TechniqueId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TechniqueMitigations::Description)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(TechniqueMitigations::MitigationId)
                            .col(TechniqueMitigations::TechniqueId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                TechniqueMitigations::Table,
                                TechniqueMitigations::MitigationId,
                            )
                            .to(Mitigations::Table, Mitigations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                TechniqueMitigations::Table,
                                TechniqueMitigations::TechniqueId,
                            )
                            .to(Techniques::Table, Techniques::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_technique_mitigations_technique")
                    .table(TechniqueMitigations::Table)
                    .col(TechniqueMitigations::TechniqueId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TechniqueMitigations::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Mitigations::Table).to_owned())
            .await
    }
}
