//! D3FEND's defensive techniques and the ATT&CK → D3FEND countermeasures derived from the
//! D3FEND ontology (each pair with the artifacts that link it).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum D3fendTechniques {
    Table,
    Id,
    D3fendId,
    ClassName,
    Name,
    Tactic,
    ParentD3fendId,
    Definition,
}

#[derive(DeriveIden)]
enum D3fendCountermeasures {
    Table,
    AttackId,
    D3fendTechniqueId,
    Links,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(D3fendTechniques::Table)
                    .col(
                        ColumnDef::new(D3fendTechniques::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(D3fendTechniques::D3fendId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(D3fendTechniques::ClassName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(D3fendTechniques::Name)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(D3fendTechniques::Tactic)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(D3fendTechniques::ParentD3fendId)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(D3fendTechniques::Definition)
                            .text()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(D3fendCountermeasures::Table)
                    .col(
                        ColumnDef::new(D3fendCountermeasures::AttackId)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(D3fendCountermeasures::D3fendTechniqueId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(D3fendCountermeasures::Links)
                            .json()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(D3fendCountermeasures::AttackId)
                            .col(D3fendCountermeasures::D3fendTechniqueId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                D3fendCountermeasures::Table,
                                D3fendCountermeasures::D3fendTechniqueId,
                            )
                            .to(D3fendTechniques::Table, D3fendTechniques::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_d3fend_countermeasures_technique")
                    .table(D3fendCountermeasures::Table)
                    .col(D3fendCountermeasures::D3fendTechniqueId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(D3fendCountermeasures::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(D3fendTechniques::Table).to_owned())
            .await
    }
}
