//! The red/blue test workflow: tests with their red, blue, validation, timer and remediation
//! fields, ordered remediation steps, and evidence files (metadata here, bytes in the object
//! store). A test's timeline is read from the audit log, hence the index on its entity.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tests {
    Table,
    Id,
    Title,
    Description,
    TechniqueId,
    Objective,
    TargetEnvironment,
    Severity,
    Platform,
    CampaignId,
    RetestOf,
    TemplateId,
    Procedure,
    ExpectedDetection,
    SuggestedTools,
    AssignedRedId,
    AssignedBlueId,
    State,
    Version,
    CreatedBy,
    ToolUsed,
    CommandExecuted,
    OutputObserved,
    RedNotes,
    AttackerIp,
    TargetIp,
    StartTime,
    EndTime,
    DetectionResult,
    DetectionNotes,
    AlertFired,
    AlertName,
    ResponseAction,
    TimeToDetectSeconds,
    BlueNotes,
    RedValidationStatus,
    RedValidationNotes,
    RedValidatedBy,
    RedValidatedAt,
    BlueValidationStatus,
    BlueValidationNotes,
    BlueValidatedBy,
    BlueValidatedAt,
    TimerStartedAt,
    TimerPausedAt,
    TimerPausedSeconds,
    TimerStoppedAt,
    RemediationStatus,
    RemediationNotes,
    RemediationOwner,
    RemediationDueDate,
    RedSubmittedAt,
    BlueSubmittedAt,
    CompletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RemediationSteps {
    Table,
    Id,
    TestId,
    Position,
    Title,
    Notes,
    Status,
    AssigneeId,
    DueDate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    TestId,
    Team,
    Filename,
    ContentType,
    SizeBytes,
    Sha256,
    StorageKey,
    Description,
    UploadedBy,
    UploadedAt,
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    EntityType,
    EntityId,
    OccurredAt,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn opt_text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn opt_string(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).null().to_owned()
}

fn opt_time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn opt_uuid(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tests::Table)
                    .col(ColumnDef::new(Tests::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Tests::Title).string_len(300).not_null())
                    .col(text(Tests::Description))
                    .col(ColumnDef::new(Tests::TechniqueId).string_len(32).not_null())
                    .col(text(Tests::Objective))
                    .col(text(Tests::TargetEnvironment))
                    .col(ColumnDef::new(Tests::Severity).string_len(16).not_null())
                    .col(opt_string(Tests::Platform, 64))
                    .col(opt_uuid(Tests::CampaignId))
                    .col(opt_uuid(Tests::RetestOf))
                    .col(opt_uuid(Tests::TemplateId))
                    .col(text(Tests::Procedure))
                    .col(text(Tests::ExpectedDetection))
                    .col(ColumnDef::new(Tests::SuggestedTools).json().not_null())
                    .col(opt_uuid(Tests::AssignedRedId))
                    .col(opt_uuid(Tests::AssignedBlueId))
                    .col(ColumnDef::new(Tests::State).string_len(32).not_null())
                    .col(ColumnDef::new(Tests::Version).integer().not_null())
                    .col(ColumnDef::new(Tests::CreatedBy).uuid().not_null())
                    .col(opt_text(Tests::ToolUsed))
                    .col(opt_text(Tests::CommandExecuted))
                    .col(opt_text(Tests::OutputObserved))
                    .col(opt_text(Tests::RedNotes))
                    .col(opt_string(Tests::AttackerIp, 64))
                    .col(opt_string(Tests::TargetIp, 64))
                    .col(opt_time(Tests::StartTime))
                    .col(opt_time(Tests::EndTime))
                    .col(opt_string(Tests::DetectionResult, 16))
                    .col(opt_text(Tests::DetectionNotes))
                    .col(ColumnDef::new(Tests::AlertFired).boolean().null())
                    .col(opt_text(Tests::AlertName))
                    .col(opt_text(Tests::ResponseAction))
                    .col(
                        ColumnDef::new(Tests::TimeToDetectSeconds)
                            .big_integer()
                            .null(),
                    )
                    .col(opt_text(Tests::BlueNotes))
                    .col(opt_string(Tests::RedValidationStatus, 16))
                    .col(opt_text(Tests::RedValidationNotes))
                    .col(opt_uuid(Tests::RedValidatedBy))
                    .col(opt_time(Tests::RedValidatedAt))
                    .col(opt_string(Tests::BlueValidationStatus, 16))
                    .col(opt_text(Tests::BlueValidationNotes))
                    .col(opt_uuid(Tests::BlueValidatedBy))
                    .col(opt_time(Tests::BlueValidatedAt))
                    .col(opt_time(Tests::TimerStartedAt))
                    .col(opt_time(Tests::TimerPausedAt))
                    .col(
                        ColumnDef::new(Tests::TimerPausedSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(opt_time(Tests::TimerStoppedAt))
                    .col(
                        ColumnDef::new(Tests::RemediationStatus)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(text(Tests::RemediationNotes))
                    .col(opt_uuid(Tests::RemediationOwner))
                    .col(ColumnDef::new(Tests::RemediationDueDate).date().null())
                    .col(opt_time(Tests::RedSubmittedAt))
                    .col(opt_time(Tests::BlueSubmittedAt))
                    .col(opt_time(Tests::CompletedAt))
                    .col(time(Tests::CreatedAt))
                    .col(time(Tests::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_tests_state", Tests::State),
            ("ix_tests_technique_id", Tests::TechniqueId),
            ("ix_tests_created_by", Tests::CreatedBy),
            ("ix_tests_campaign_id", Tests::CampaignId),
            ("ix_tests_retest_of", Tests::RetestOf),
            ("ix_tests_updated_at", Tests::UpdatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Tests::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RemediationSteps::Table)
                    .col(
                        ColumnDef::new(RemediationSteps::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RemediationSteps::TestId).uuid().not_null())
                    .col(
                        ColumnDef::new(RemediationSteps::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RemediationSteps::Title)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(text(RemediationSteps::Notes))
                    .col(
                        ColumnDef::new(RemediationSteps::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(opt_uuid(RemediationSteps::AssigneeId))
                    .col(ColumnDef::new(RemediationSteps::DueDate).date().null())
                    .col(time(RemediationSteps::CreatedAt))
                    .col(time(RemediationSteps::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_remediation_steps_test")
                            .from(RemediationSteps::Table, RemediationSteps::TestId)
                            .to(Tests::Table, Tests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_remediation_steps_test")
                    .table(RemediationSteps::Table)
                    .col(RemediationSteps::TestId)
                    .col(RemediationSteps::Position)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(ColumnDef::new(Evidence::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Evidence::TestId).uuid().not_null())
                    .col(ColumnDef::new(Evidence::Team).string_len(8).not_null())
                    .col(
                        ColumnDef::new(Evidence::Filename)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Evidence::ContentType)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Evidence::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(Evidence::Sha256).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Evidence::StorageKey)
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(Evidence::Description))
                    .col(ColumnDef::new(Evidence::UploadedBy).uuid().not_null())
                    .col(time(Evidence::UploadedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_test")
                            .from(Evidence::Table, Evidence::TestId)
                            .to(Tests::Table, Tests::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_test")
                    .table(Evidence::Table)
                    .col(Evidence::TestId)
                    .to_owned(),
            )
            .await?;

        // The timeline reads one entity's history in time order.
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_logs_entity")
                    .table(AuditLogs::Table)
                    .col(AuditLogs::EntityType)
                    .col(AuditLogs::EntityId)
                    .col(AuditLogs::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_audit_logs_entity")
                    .table(AuditLogs::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Evidence::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RemediationSteps::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tests::Table).to_owned())
            .await
    }
}
