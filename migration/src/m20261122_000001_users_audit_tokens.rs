//! Users, the audit log and revoked tokens: the foundation everything else hangs off.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    Email,
    Role,
    IsActive,
    PasswordHash,
    PasswordChangedAt,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Id,
    OccurredAt,
    ActorId,
    ActorUsername,
    Action,
    EntityType,
    EntityId,
    BeforeValue,
    AfterValue,
    ClientIp,
    RequestId,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    Jti,
    UserId,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::Username).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Users::DisplayName)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Users::Email).string_len(254).null())
                    .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Users::IsActive)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                    .col(
                        ColumnDef::new(Users::PasswordChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::LastLoginAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Users::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Usernames are stored lower-cased, so a plain unique index is case-insensitive.
        manager
            .create_index(
                Index::create()
                    .name("ux_users_username")
                    .table(Users::Table)
                    .col(Users::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLogs::Table)
                    .col(
                        ColumnDef::new(AuditLogs::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditLogs::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLogs::ActorId).uuid().null())
                    .col(
                        ColumnDef::new(AuditLogs::ActorUsername)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(AuditLogs::Action).string_len(64).not_null())
                    .col(
                        ColumnDef::new(AuditLogs::EntityType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLogs::EntityId).string_len(128).null())
                    .col(ColumnDef::new(AuditLogs::BeforeValue).json().null())
                    .col(ColumnDef::new(AuditLogs::AfterValue).json().null())
                    .col(ColumnDef::new(AuditLogs::ClientIp).string_len(64).null())
                    .col(ColumnDef::new(AuditLogs::RequestId).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_audit_logs_occurred_at", AuditLogs::OccurredAt),
            ("ix_audit_logs_action", AuditLogs::Action),
            ("ix_audit_logs_entity_type", AuditLogs::EntityType),
            ("ix_audit_logs_actor_id", AuditLogs::ActorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLogs::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RevokedTokens::Table)
                    .col(
                        ColumnDef::new(RevokedTokens::Jti)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RevokedTokens::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(RevokedTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RevokedTokens::RevokedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_revoked_tokens_expires_at")
                    .table(RevokedTokens::Table)
                    .col(RevokedTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLogs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
