//! Threat-intel monitoring: ATT&CK's software (so intel can be matched against it), the feeds an
//! admin subscribes to, the items the `intel_scan` job found in them, and what each item
//! mentions (one row per technique or actor, for the filters and the technique pages).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Software {
    Table,
    Id,
    MitreId,
    StixId,
    Name,
    Kind,
    Aliases,
    Description,
    Url,
    ModifiedAt,
    Deprecated,
    Revoked,
}

#[derive(DeriveIden)]
enum IntelFeeds {
    Table,
    Id,
    Name,
    Url,
    Kind,
    IsActive,
    Tags,
    Etag,
    LastModified,
    LastFetchedAt,
    LastStatus,
    LastError,
    LastNewItems,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IntelItems {
    Table,
    Id,
    FeedId,
    DedupeKey,
    Guid,
    Title,
    Link,
    Source,
    PublishedAt,
    Summary,
    Matches,
    Status,
    ReviewedBy,
    ReviewedAt,
    Notes,
    FirstSeenAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IntelMentions {
    Table,
    ItemId,
    Kind,
    MitreId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Software::Table)
                    .col(ColumnDef::new(Software::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Software::MitreId).string_len(32).not_null())
                    .col(
                        ColumnDef::new(Software::StixId)
                            .string_len(128)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Software::Name).string_len(300).not_null())
                    .col(ColumnDef::new(Software::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Software::Aliases).json().not_null())
                    .col(ColumnDef::new(Software::Description).text().not_null())
                    .col(ColumnDef::new(Software::Url).string_len(500).null())
                    .col(
                        ColumnDef::new(Software::ModifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Software::Deprecated)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Software::Revoked)
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
                    .name("idx_software_mitre_id")
                    .table(Software::Table)
                    .col(Software::MitreId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntelFeeds::Table)
                    .col(
                        ColumnDef::new(IntelFeeds::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(IntelFeeds::Name).string_len(200).not_null())
                    .col(
                        ColumnDef::new(IntelFeeds::Url)
                            .string_len(2000)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(IntelFeeds::Kind).string_len(16).null())
                    .col(
                        ColumnDef::new(IntelFeeds::IsActive)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(ColumnDef::new(IntelFeeds::Tags).json().not_null())
                    .col(ColumnDef::new(IntelFeeds::Etag).string_len(500).null())
                    .col(
                        ColumnDef::new(IntelFeeds::LastModified)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(IntelFeeds::LastFetchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(IntelFeeds::LastStatus).string_len(16).null())
                    .col(ColumnDef::new(IntelFeeds::LastError).text().null())
                    .col(
                        ColumnDef::new(IntelFeeds::LastNewItems)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(IntelFeeds::CreatedBy).string_len(150).null())
                    .col(
                        ColumnDef::new(IntelFeeds::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IntelFeeds::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntelItems::Table)
                    .col(
                        ColumnDef::new(IntelItems::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(IntelItems::FeedId).uuid().null())
                    .col(
                        ColumnDef::new(IntelItems::DedupeKey)
                            .string_len(2000)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(IntelItems::Guid).string_len(2000).null())
                    .col(
                        ColumnDef::new(IntelItems::Title)
                            .string_len(1000)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IntelItems::Link).string_len(2000).null())
                    .col(
                        ColumnDef::new(IntelItems::Source)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IntelItems::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(IntelItems::Summary).text().not_null())
                    .col(ColumnDef::new(IntelItems::Matches).json().not_null())
                    .col(ColumnDef::new(IntelItems::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(IntelItems::ReviewedBy)
                            .string_len(150)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(IntelItems::ReviewedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(IntelItems::Notes)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(IntelItems::FirstSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IntelItems::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(IntelItems::Table, IntelItems::FeedId)
                            .to(IntelFeeds::Table, IntelFeeds::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_intel_items_published", IntelItems::PublishedAt),
            ("idx_intel_items_status", IntelItems::Status),
            ("idx_intel_items_first_seen", IntelItems::FirstSeenAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(IntelItems::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IntelMentions::Table)
                    .col(ColumnDef::new(IntelMentions::ItemId).uuid().not_null())
                    .col(
                        ColumnDef::new(IntelMentions::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IntelMentions::MitreId)
                            .string_len(32)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(IntelMentions::ItemId)
                            .col(IntelMentions::Kind)
                            .col(IntelMentions::MitreId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(IntelMentions::Table, IntelMentions::ItemId)
                            .to(IntelItems::Table, IntelItems::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_intel_mentions_target")
                    .table(IntelMentions::Table)
                    .col(IntelMentions::Kind)
                    .col(IntelMentions::MitreId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IntelMentions::Table.into_iden(),
            IntelItems::Table.into_iden(),
            IntelFeeds::Table.into_iden(),
            Software::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
