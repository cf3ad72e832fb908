//! A campaign's tests: adding and removing them, the check a test's own campaign field goes
//! through, and completing the campaign (when its last test is finished, or by a lead).
use super::{ENTITY, check_manage, lock};
use crate::domain::audit::{AuditAction, Section};
use crate::domain::campaigns::{self, BATCH_MAX, CampaignStatus};
use crate::domain::workflow::TestState;
use crate::dto::campaigns::{AddTestsReport, AddTestsRequest};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{campaign, security_test};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use crate::server::platform::notifications::{self, NewNotification};
use crate::server::workflow::rows;
use crate::server::workflow::snapshots::{audit_edit, fields};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

/// A test's `campaign_id` must name a campaign that still takes tests, and the test must be
/// one that may join (a draft, or rejected).
pub async fn check_for_test(
    conn: &impl ConnectionTrait,
    campaign_id: Option<Uuid>,
    state: TestState,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(id) = campaign_id else {
        return Ok(());
    };
    match campaign::Entity::find_by_id(id).one(conn).await? {
        None => {
            errors.insert("campaign_id".into(), format!("No campaign {id}"));
        }
        Some(c) if !c.status.is_open() => {
            errors.insert(
                "campaign_id".into(),
                format!(
                    "Campaign \"{}\" is {} and takes no more tests",
                    c.name, c.status
                ),
            );
        }
        Some(_) => {
            if let Err(e) = campaigns::may_join(state) {
                errors.insert("campaign_id".into(), e);
            }
        }
    }
    Ok(())
}

/// Moves one locked test into (or out of) a campaign: audited on the test, counted, saved.
async fn set_campaign(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: &security_test::Model,
    campaign_id: Option<Uuid>,
) -> AppResult<security_test::Model> {
    let mut after = before.clone();
    after.campaign_id = campaign_id;
    audit_edit(
        txn,
        actor,
        Section::General,
        before.id,
        &fields(Section::General, before),
        &fields(Section::General, &after),
    )
    .await?;
    rows::save(txn, before, after, Utc::now()).await
}

/// `POST /campaigns/{id}/tests`: existing draft or rejected tests join the campaign. A test
/// already in it is left as it is; one in another campaign is refused (remove it there).
pub async fn add_tests(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: AddTestsRequest,
) -> AppResult<AddTestsReport> {
    check_manage(user)?;
    if request.test_ids.is_empty() {
        return Err(AppError::field("test_ids", "Name at least one test"));
    }
    if request.test_ids.len() > BATCH_MAX {
        return Err(AppError::field(
            "test_ids",
            format!("At most {BATCH_MAX} tests at once"),
        ));
    }
    let txn = begin_write(db).await?;
    let campaign = lock(&txn, id).await?;
    if !campaign.status.is_open() {
        return Err(AppError::Conflict(format!(
            "Campaign \"{}\" is {} and takes no more tests",
            campaign.name, campaign.status
        )));
    }
    let mut ids = request.test_ids.clone();
    ids.sort();
    ids.dedup();
    let mut errors = FieldErrors::new();
    let mut tests = Vec::new();
    for test_id in &ids {
        let found = security_test::Entity::find_by_id(*test_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let Some(test) = found else {
            errors.insert(format!("test_ids.{test_id}"), format!("No test {test_id}"));
            continue;
        };
        if test.campaign_id == Some(id) {
            tests.push(test);
            continue;
        }
        if let Some(other) = test.campaign_id {
            errors.insert(
                format!("test_ids.{test_id}"),
                format!(
                    "\"{}\" is in another campaign ({other}); remove it there first",
                    test.title
                ),
            );
            continue;
        }
        if let Err(e) = campaigns::may_join(test.state) {
            errors.insert(
                format!("test_ids.{test_id}"),
                format!("\"{}\": {e}", test.title),
            );
            continue;
        }
        tests.push(test);
    }
    AppError::invalid("These tests cannot join the campaign", errors)?;
    let mut report = AddTestsReport {
        added: Vec::new(),
        unchanged: Vec::new(),
    };
    for test in tests {
        if test.campaign_id == Some(id) {
            report.unchanged.push(test.id);
        } else {
            set_campaign(&txn, actor, &test, Some(id)).await?;
            report.added.push(test.id);
        }
    }
    if !report.added.is_empty() {
        audit::record(
            &txn,
            actor,
            AuditRecord::new(AuditAction::CampaignTestsAdd, ENTITY, id)
                .after(json!({ "test_ids": report.added })),
        )
        .await?;
        touch(&txn, &campaign, user.id).await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// `DELETE /campaigns/{id}/tests/{test_id}`: the test leaves the campaign (in any state); a
/// campaign whose remaining tests are all finished completes.
pub async fn remove_test(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    test_id: Uuid,
) -> AppResult<()> {
    check_manage(user)?;
    let txn = begin_write(db).await?;
    let campaign = lock(&txn, id).await?;
    let test = rows::lock(&txn, test_id).await?;
    if test.campaign_id != Some(id) {
        return Err(AppError::NotFound(format!(
            "Test {test_id} is not in campaign \"{}\"",
            campaign.name
        )));
    }
    set_campaign(&txn, actor, &test, None).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::CampaignTestRemove, ENTITY, id)
            .before(json!({ "test_id": test_id, "title": test.title })),
    )
    .await?;
    let campaign = touch(&txn, &campaign, user.id).await?;
    complete_if_finished(&txn, actor, campaign).await?;
    txn.commit().await?;
    Ok(())
}

/// Stamps a change of the campaign's tests on the campaign.
async fn touch(
    txn: &DatabaseTransaction,
    campaign: &campaign::Model,
    by: Uuid,
) -> AppResult<campaign::Model> {
    let mut model = campaign.clone();
    model.updated_at = Utc::now();
    model.updated_by = by;
    Ok(model.into_active_model().reset_all().update(txn).await?)
}

/// Who completed a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletedBy {
    /// Its last test was validated or rejected.
    Tests,
    /// A lead set it completed.
    Lead,
}

/// Marks the campaign completed (if a lead did, the status is already set), audits
/// `campaign.completed`, tells the owner and queues the `campaign.completed` webhooks.
pub async fn complete(
    txn: &DatabaseTransaction,
    actor: &Actor,
    campaign: campaign::Model,
    by: CompletedBy,
) -> AppResult<campaign::Model> {
    let now = Utc::now();
    let mut model = campaign;
    model.status = CampaignStatus::Completed;
    model.completed_at = Some(now);
    model.updated_at = now;
    let model = model.into_active_model().reset_all().update(txn).await?;
    let counts = super::state_counts(txn, &[model.id])
        .await?
        .remove(&model.id)
        .unwrap_or_default();
    let payload = json!({
        "id": model.id,
        "name": model.name,
        "completed_by": match by { CompletedBy::Tests => "tests", CompletedBy::Lead => "lead" },
        "tests": counts,
    });
    audit::record(
        txn,
        actor,
        AuditRecord::new(AuditAction::CampaignComplete, ENTITY, model.id).after(&payload),
    )
    .await?;
    if let Some(owner) = model.owner_id {
        notifications::notify(
            txn,
            &[owner],
            NewNotification {
                kind: "campaign_completed",
                title: format!("Campaign \"{}\" is complete", model.name),
                body: format!(
                    "{} of its {} tests validated, {} rejected.",
                    counts.by_state.get("validated").copied().unwrap_or(0),
                    counts.total,
                    counts.by_state.get("rejected").copied().unwrap_or(0),
                ),
                link: Some(format!("/campaigns/{}", model.id)),
            },
        )
        .await?;
    }
    crate::server::webhooks::outbox::emit(
        txn,
        crate::domain::webhooks::WebhookEvent::CampaignCompleted,
        &payload,
    )
    .await?;
    Ok(model)
}

/// Completes an open campaign whose tests are all finished.
async fn complete_if_finished(
    txn: &DatabaseTransaction,
    actor: &Actor,
    campaign: campaign::Model,
) -> AppResult<()> {
    if !campaign.status.is_open() {
        return Ok(());
    }
    let states: Vec<TestState> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::State)
        .filter(security_test::Column::CampaignId.eq(campaign.id))
        .into_tuple()
        .all(txn)
        .await?;
    if campaigns::is_complete(&states) {
        complete(txn, actor, campaign, CompletedBy::Tests).await?;
    }
    Ok(())
}

/// Called in the transaction that finished a test (validated or rejected): its campaign
/// completes when that was its last test under way.
pub async fn after_test_finished(
    txn: &DatabaseTransaction,
    actor: &Actor,
    test: &security_test::Model,
) -> AppResult<()> {
    let Some(id) = test.campaign_id else {
        return Ok(());
    };
    if test.state.is_active() {
        return Ok(());
    }
    let campaign = lock(txn, id).await?;
    complete_if_finished(txn, actor, campaign).await
}
