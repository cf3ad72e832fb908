//! Campaigns: ATT&CK's own campaigns (imported with the knowledge base), the team's testing
//! campaigns, and `tests.campaign_id` as a real reference to them.
//!
//! Until now `tests.campaign_id` was a free column that nothing checked. No campaign existed,
//! so every id it holds is unknown: the migration keeps each (test, id) pair it clears in
//! `cleared_campaign_links` (so nothing is lost silently), prints how many it cleared, and
//! drops the campaign counters those ids had. PostgreSQL then enforces the reference with a
//! foreign key; SQLite cannot add one to an existing table, so two triggers refuse an insert
//! or update naming an unknown campaign with the same error a foreign key gives.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttackCampaigns {
    Table,
    Id,
    StixId,
    MitreId,
    Name,
    Aliases,
    Description,
    Url,
    FirstSeen,
    LastSeen,
    Techniques,
    Actors,
    ModifiedAt,
    Deprecated,
    Revoked,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    Name,
    Description,
    Objective,
    ThreatActorId,
    AttackCampaignId,
    TechniqueSetId,
    TargetEnvironment,
    StartDate,
    EndDate,
    OwnerId,
    Status,
    Recurrence,
    SeriesId,
    Period,
    CompletedAt,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClearedCampaignLinks {
    Table,
    TestId,
    CampaignId,
}

#[derive(DeriveIden)]
enum ThreatActors {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TechniqueSets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AttackCampaigns::Table)
                    .col(
                        ColumnDef::new(AttackCampaigns::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AttackCampaigns::StixId)
                            .text()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(AttackCampaigns::MitreId).text().not_null())
                    .col(ColumnDef::new(AttackCampaigns::Name).text().not_null())
                    .col(ColumnDef::new(AttackCampaigns::Aliases).json().not_null())
                    .col(
                        ColumnDef::new(AttackCampaigns::Description)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AttackCampaigns::Url).text().null())
                    .col(
                        ColumnDef::new(AttackCampaigns::FirstSeen)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AttackCampaigns::LastSeen)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AttackCampaigns::Techniques)
                            .json()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AttackCampaigns::Actors).json().not_null())
                    .col(
                        ColumnDef::new(AttackCampaigns::ModifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AttackCampaigns::Deprecated)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AttackCampaigns::Revoked)
                            .boolean()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attack_campaigns_mitre_id")
                    .table(AttackCampaigns::Table)
                    .col(AttackCampaigns::MitreId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(
                        ColumnDef::new(Campaigns::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Campaigns::Name).text().not_null())
                    .col(ColumnDef::new(Campaigns::Description).text().not_null())
                    .col(ColumnDef::new(Campaigns::Objective).text().not_null())
                    .col(ColumnDef::new(Campaigns::ThreatActorId).uuid().null())
                    .col(ColumnDef::new(Campaigns::AttackCampaignId).uuid().null())
                    .col(ColumnDef::new(Campaigns::TechniqueSetId).uuid().null())
                    .col(
                        ColumnDef::new(Campaigns::TargetEnvironment)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Campaigns::StartDate).date().null())
                    .col(ColumnDef::new(Campaigns::EndDate).date().null())
                    .col(ColumnDef::new(Campaigns::OwnerId).uuid().null())
                    .col(ColumnDef::new(Campaigns::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Campaigns::Recurrence).json().null())
                    .col(ColumnDef::new(Campaigns::SeriesId).uuid().null())
                    .col(ColumnDef::new(Campaigns::Period).integer().null())
                    .col(
                        ColumnDef::new(Campaigns::CompletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Campaigns::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(Campaigns::UpdatedBy).uuid().not_null())
                    .col(
                        ColumnDef::new(Campaigns::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Campaigns::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::ThreatActorId)
                            .to(ThreatActors::Table, ThreatActors::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::AttackCampaignId)
                            .to(AttackCampaigns::Table, AttackCampaigns::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::TechniqueSetId)
                            .to(TechniqueSets::Table, TechniqueSets::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::OwnerId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::UpdatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::SeriesId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One run per period of a series: the recurring job's "exactly once", whatever
        // process or retry gets there first.
        manager
            .create_index(
                Index::create()
                    .name("uq_campaigns_series_period")
                    .table(Campaigns::Table)
                    .col(Campaigns::SeriesId)
                    .col(Campaigns::Period)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_campaigns_status")
                    .table(Campaigns::Table)
                    .col(Campaigns::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClearedCampaignLinks::Table)
                    .col(
                        ColumnDef::new(ClearedCampaignLinks::TestId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ClearedCampaignLinks::CampaignId)
                            .uuid()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let unknown = "campaign_id IS NOT NULL AND campaign_id NOT IN (SELECT id FROM campaigns)";
        db.execute_unprepared(&format!(
            "INSERT INTO cleared_campaign_links (test_id, campaign_id) \
             SELECT id, campaign_id FROM tests WHERE {unknown}"
        ))
        .await?;
        let cleared = db
            .execute_unprepared(&format!(
                "UPDATE tests SET campaign_id = NULL WHERE {unknown}"
            ))
            .await?
            .rows_affected();
        if cleared > 0 {
            eprintln!(
                "aegis migration: {cleared} test(s) named a campaign that does not exist; \
                 their campaign was cleared and each (test, campaign id) pair is kept in \
                 the table cleared_campaign_links"
            );
        }
        db.execute_unprepared("DELETE FROM test_tallies WHERE dimension = 'campaign'")
            .await?;

        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                for (event, name) in [
                    ("INSERT", "tests_campaign_ref_insert"),
                    ("UPDATE OF campaign_id", "tests_campaign_ref_update"),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {event} ON tests \
                         WHEN NEW.campaign_id IS NOT NULL AND NOT EXISTS \
                         (SELECT 1 FROM campaigns WHERE id = NEW.campaign_id) \
                         BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed'); END"
                    ))
                    .await?;
                }
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE tests ADD CONSTRAINT fk_tests_campaign \
                     FOREIGN KEY (campaign_id) REFERENCES campaigns (id)",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS tests_campaign_ref_insert")
                    .await?;
                db.execute_unprepared("DROP TRIGGER IF EXISTS tests_campaign_ref_update")
                    .await?;
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE tests DROP CONSTRAINT IF EXISTS fk_tests_campaign",
                )
                .await?;
            }
        }
        db.execute_unprepared("UPDATE tests SET campaign_id = NULL")
            .await?;
        for table in [
            Alias::new("cleared_campaign_links"),
            Alias::new("campaigns"),
            Alias::new("attack_campaigns"),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
