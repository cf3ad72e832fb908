//! The `recurring_campaigns` job: for each recurring series whose current period has begun and
//! has no run yet, a new campaign "<name> — <period>" whose tests are retests (`retest_of`) of
//! the previous run's tests, in `draft`, with the same assignees. A period is spawned exactly
//! once: the unique (series, period) index refuses a second run, whichever process or retry
//! gets there second, and that one's transaction leaves nothing behind.
use super::ENTITY;
use crate::domain::audit::{AuditAction, TestEvent};
use crate::domain::campaigns::{CampaignStatus, Recurrence};
use crate::error::{AppError, AppResult};
use crate::server::entities::{campaign, security_test};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use crate::server::workflow::coverage::recompute_coverage;
use crate::server::workflow::reads::strings;
use crate::server::workflow::rows::{NewTest, insert_draft};
use crate::server::workflow::snapshots::general_fields;
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, SqlErr,
};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// What one pass of the job did.
#[derive(Debug, Default, Serialize)]
pub struct SpawnReport {
    /// The runs spawned: (series, period, new campaign, tests).
    pub spawned: Vec<Spawned>,
    /// Series already holding their current period's run.
    pub up_to_date: u32,
}

#[derive(Debug, Serialize)]
pub struct Spawned {
    pub series_id: Uuid,
    pub period: u32,
    pub campaign_id: Uuid,
    pub name: String,
    pub tests: usize,
}

/// Spawns every series' current period that has no run yet, as of `today`.
pub async fn spawn_due(
    db: &DatabaseConnection,
    actor: &Actor,
    today: NaiveDate,
) -> AppResult<SpawnReport> {
    let series = campaign::Entity::find()
        .filter(campaign::Column::Recurrence.is_not_null())
        .filter(Expr::col(campaign::Column::SeriesId).equals(campaign::Column::Id))
        .filter(campaign::Column::Status.ne(CampaignStatus::Cancelled))
        .order_by_asc(campaign::Column::CreatedAt)
        .all(db)
        .await?;
    let mut report = SpawnReport::default();
    for origin in series {
        let Some(recurrence) = origin
            .recurrence
            .clone()
            .and_then(|v| serde_json::from_value::<Recurrence>(v).ok())
        else {
            continue;
        };
        let Some(start) = origin.start_date else {
            continue;
        };
        let Some(period) = recurrence.current_period(start, today).filter(|n| *n > 0) else {
            continue;
        };
        match spawn(db, actor, &origin, recurrence, start, period).await? {
            Some(spawned) => report.spawned.push(spawned),
            None => report.up_to_date += 1,
        }
    }
    Ok(report)
}

fn is_duplicate(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Spawns `period` of the series, or `None` when it already has its run.
async fn spawn(
    db: &DatabaseConnection,
    actor: &Actor,
    origin: &campaign::Model,
    recurrence: Recurrence,
    start: NaiveDate,
    period: u32,
) -> AppResult<Option<Spawned>> {
    let txn = begin_write(db).await?;
    let exists = campaign::Entity::find()
        .filter(campaign::Column::SeriesId.eq(origin.id))
        .filter(campaign::Column::Period.eq(period as i32))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    // The latest run before this period is the one retested.
    let previous = campaign::Entity::find()
        .filter(campaign::Column::SeriesId.eq(origin.id))
        .filter(campaign::Column::Period.lt(period as i32))
        .order_by_desc(campaign::Column::Period)
        .one(&txn)
        .await?
        .unwrap_or_else(|| origin.clone());
    let period_start = recurrence
        .period_start(start, period)
        .ok_or_else(|| AppError::internal("period start out of range"))?;
    let period_end = recurrence
        .period_start(start, period + 1)
        .map(|next| next - Duration::days(1));
    let now = Utc::now();
    let name: String = format!(
        "{} — {}",
        origin.name,
        recurrence.period_label(period_start)
    )
    .chars()
    .take(crate::domain::campaigns::NAME_MAX)
    .collect();
    let run = campaign::Model {
        id: Uuid::new_v4(),
        name: name.clone(),
        description: origin.description.clone(),
        objective: origin.objective.clone(),
        threat_actor_id: origin.threat_actor_id,
        attack_campaign_id: origin.attack_campaign_id,
        technique_set_id: origin.technique_set_id,
        target_environment: origin.target_environment.clone(),
        start_date: Some(period_start),
        end_date: period_end,
        owner_id: origin.owner_id,
        status: CampaignStatus::Planned,
        recurrence: None,
        series_id: Some(origin.id),
        period: Some(period as i32),
        completed_at: None,
        created_by: origin.created_by,
        updated_by: origin.created_by,
        created_at: now,
        updated_at: now,
    };
    let inserted = run
        .clone()
        .into_active_model()
        .reset_all()
        .insert(&txn)
        .await;
    let run = match inserted {
        Ok(model) => model,
        Err(e) if is_duplicate(&e) => {
            txn.rollback().await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let tests = security_test::Entity::find()
        .filter(security_test::Column::CampaignId.eq(previous.id))
        .order_by_asc(security_test::Column::CreatedAt)
        .order_by_asc(security_test::Column::Id)
        .all(&txn)
        .await?;
    let mut techniques = BTreeSet::new();
    for test in &tests {
        let new = NewTest {
            title: test.title.clone(),
            description: test.description.clone(),
            technique_id: test.technique_id.clone(),
            objective: test.objective.clone(),
            target_environment: test.target_environment.clone(),
            severity: test.severity,
            platform: test.platform.clone(),
            campaign_id: Some(run.id),
            retest_of: Some(test.id),
            template_id: test.template_id,
            procedure: test.procedure.clone(),
            expected_detection: test.expected_detection.clone(),
            suggested_tools: strings(&test.suggested_tools),
            assigned_red_id: test.assigned_red_id,
            assigned_blue_id: test.assigned_blue_id,
            created_by: test.created_by,
        };
        let model = insert_draft(&txn, new).await?;
        audit::record(
            &txn,
            actor,
            AuditRecord::test_event(
                model.id,
                &TestEvent::Created {
                    after: general_fields(&model),
                },
            ),
        )
        .await?;
        techniques.insert(model.technique_id);
    }
    for technique in &techniques {
        recompute_coverage(&txn, technique).await?;
    }
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::CampaignSpawn, ENTITY, run.id).after(json!({
            "series_id": origin.id,
            "period": period,
            "previous_id": previous.id,
            "tests": tests.len(),
        })),
    )
    .await?;
    match txn.commit().await {
        Ok(()) => {}
        Err(e) if is_duplicate(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(Some(Spawned {
        series_id: origin.id,
        period,
        campaign_id: run.id,
        name,
        tests: tests.len(),
    }))
}
