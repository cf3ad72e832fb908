//! The scoring engine (versioned configurations, each technique's score and priority), the
//! data-component inventory (DeTT&CT-style visibility) and control frameworks mapped onto
//! ATT&CK (compliance).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoringConfigs {
    Table,
    Id,
    Version,
    Config,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TechniqueScores {
    Table,
    TechniqueId,
    Score,
    Priority,
    Gap,
    Visibility,
    Stale,
    Factors,
    ComputedAt,
}

#[derive(DeriveIden)]
enum DataComponents {
    Table,
    Id,
    MitreId,
    StixId,
    Name,
    Description,
    DataSource,
    Deprecated,
    Collected,
    Quality,
    Notes,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TechniqueDataComponents {
    Table,
    TechniqueId,
    ComponentId,
}

#[derive(DeriveIden)]
enum ComplianceFrameworks {
    Table,
    Id,
    Key,
    Name,
    Version,
    AttackVersion,
    Domain,
    Source,
    ImportedAt,
}

#[derive(DeriveIden)]
enum ComplianceControls {
    Table,
    Id,
    FrameworkId,
    ControlId,
    Name,
    Family,
    FamilyName,
}

#[derive(DeriveIden)]
enum ComplianceMappings {
    Table,
    ControlId,
    TechniqueId,
    MappingType,
    Comments,
}

#[derive(DeriveIden)]
enum TechniqueRevocations {
    Table,
    MitreId,
    RevokedBy,
}

#[derive(DeriveIden)]
enum CoverageSnapshots {
    Table,
    Score,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn at(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn text(column: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(column).string_len(len).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScoringConfigs::Table)
                    .col(
                        ColumnDef::new(ScoringConfigs::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ScoringConfigs::Version)
                            .integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ScoringConfigs::Config).json().not_null())
                    .col(text(ScoringConfigs::Note, 500))
                    .col(ColumnDef::new(ScoringConfigs::CreatedBy).uuid().null())
                    .col(at(ScoringConfigs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScoringConfigs::Table, ScoringConfigs::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TechniqueScores::Table)
                    .col(
                        ColumnDef::new(TechniqueScores::TechniqueId)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TechniqueScores::Score).double().not_null())
                    .col(
                        ColumnDef::new(TechniqueScores::Priority)
                            .double()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TechniqueScores::Gap).double().not_null())
                    .col(ColumnDef::new(TechniqueScores::Visibility).double().null())
                    .col(ColumnDef::new(TechniqueScores::Stale).boolean().not_null())
                    .col(ColumnDef::new(TechniqueScores::Factors).json().not_null())
                    .col(at(TechniqueScores::ComputedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DataComponents::Table)
                    .col(
                        ColumnDef::new(DataComponents::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DataComponents::MitreId)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(DataComponents::StixId)
                            .string_len(200)
                            .null(),
                    )
                    .col(text(DataComponents::Name, 300))
                    .col(
                        ColumnDef::new(DataComponents::Description)
                            .text()
                            .not_null(),
                    )
                    .col(text(DataComponents::DataSource, 300))
                    .col(
                        ColumnDef::new(DataComponents::Deprecated)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DataComponents::Collected)
                            .boolean()
                            .not_null(),
                    )
                    .col(text(DataComponents::Quality, 16))
                    .col(ColumnDef::new(DataComponents::Notes).text().not_null())
                    .col(ColumnDef::new(DataComponents::UpdatedBy).uuid().null())
                    .col(
                        ColumnDef::new(DataComponents::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DataComponents::Table, DataComponents::UpdatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TechniqueDataComponents::Table)
                    .col(text(TechniqueDataComponents::TechniqueId, 32))
                    .col(
                        ColumnDef::new(TechniqueDataComponents::ComponentId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(TechniqueDataComponents::TechniqueId)
                            .col(TechniqueDataComponents::ComponentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                TechniqueDataComponents::Table,
                                TechniqueDataComponents::ComponentId,
                            )
                            .to(DataComponents::Table, DataComponents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_technique_data_components_component")
                    .table(TechniqueDataComponents::Table)
                    .col(TechniqueDataComponents::ComponentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ComplianceFrameworks::Table)
                    .col(
                        ColumnDef::new(ComplianceFrameworks::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(ComplianceFrameworks::Key, 100))
                    .col(text(ComplianceFrameworks::Name, 300))
                    .col(text(ComplianceFrameworks::Version, 64))
                    .col(text(ComplianceFrameworks::AttackVersion, 32))
                    .col(text(ComplianceFrameworks::Domain, 64))
                    .col(
                        ColumnDef::new(ComplianceFrameworks::Source)
                            .text()
                            .not_null(),
                    )
                    .col(at(ComplianceFrameworks::ImportedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_compliance_frameworks_key_version")
                    .table(ComplianceFrameworks::Table)
                    .col(ComplianceFrameworks::Key)
                    .col(ComplianceFrameworks::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ComplianceControls::Table)
                    .col(
                        ColumnDef::new(ComplianceControls::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ComplianceControls::FrameworkId)
                            .uuid()
                            .not_null(),
                    )
                    .col(text(ComplianceControls::ControlId, 64))
                    .col(ColumnDef::new(ComplianceControls::Name).text().not_null())
                    .col(text(ComplianceControls::Family, 200))
                    .col(text(ComplianceControls::FamilyName, 300))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ComplianceControls::Table, ComplianceControls::FrameworkId)
                            .to(ComplianceFrameworks::Table, ComplianceFrameworks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_compliance_controls_framework_control")
                    .table(ComplianceControls::Table)
                    .col(ComplianceControls::FrameworkId)
                    .col(ComplianceControls::ControlId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ComplianceMappings::Table)
                    .col(
                        ColumnDef::new(ComplianceMappings::ControlId)
                            .uuid()
                            .not_null(),
                    )
                    .col(text(ComplianceMappings::TechniqueId, 32))
                    .col(text(ComplianceMappings::MappingType, 64))
                    .col(
                        ColumnDef::new(ComplianceMappings::Comments)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ComplianceMappings::ControlId)
                            .col(ComplianceMappings::TechniqueId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ComplianceMappings::Table, ComplianceMappings::ControlId)
                            .to(ComplianceControls::Table, ComplianceControls::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_compliance_mappings_technique")
                    .table(ComplianceMappings::Table)
                    .col(ComplianceMappings::TechniqueId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TechniqueRevocations::Table)
                    .col(
                        ColumnDef::new(TechniqueRevocations::MitreId)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(TechniqueRevocations::RevokedBy, 32))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CoverageSnapshots::Table)
                    .add_column(ColumnDef::new(CoverageSnapshots::Score).double().null())
                    .to_owned(),
            )
            .await?;
        // The cache scope of the scores (`app::domain::cache::CacheScope::Scores`).
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO cache_versions (scope, version) VALUES ('scores', 1)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM cache_versions WHERE scope = 'scores'")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CoverageSnapshots::Table)
                    .drop_column(CoverageSnapshots::Score)
                    .to_owned(),
            )
            .await?;
        for table in [
            TechniqueRevocations::Table.into_iden(),
            ComplianceMappings::Table.into_iden(),
            ComplianceControls::Table.into_iden(),
            ComplianceFrameworks::Table.into_iden(),
            TechniqueDataComponents::Table.into_iden(),
            DataComponents::Table.into_iden(),
            TechniqueScores::Table.into_iden(),
            ScoringConfigs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
