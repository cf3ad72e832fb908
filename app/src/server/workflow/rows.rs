//! The rows of a test, built in one place: a new draft and a remediation step as the services
//! insert them (the demo seeder and the benchmarks build theirs with the same functions), the
//! locked read, the version check and the save that every change ends with.
use crate::domain::timer::Timer;
use crate::domain::validation::clean_list;
use crate::domain::values::{RemediationStatus, Severity};
use crate::domain::workflow::TestState;
use crate::error::{AppError, AppResult};
use crate::server::entities::{remediation_step, security_test};
use crate::server::workflow::tallies;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

/// A validated new test, before it is a row.
#[derive(Debug, Clone, Default)]
pub struct NewTest {
    pub title: String,
    pub description: String,
    pub technique_id: String,
    pub objective: String,
    pub target_environment: String,
    pub severity: Severity,
    pub platform: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub retest_of: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub procedure: String,
    pub expected_detection: String,
    pub suggested_tools: Vec<String>,
    pub assigned_red_id: Option<Uuid>,
    pub assigned_blue_id: Option<Uuid>,
    pub created_by: Uuid,
}

/// The stored form of a tools list: trimmed, blanks and duplicates dropped.
pub fn tools_json(tools: &[String]) -> Value {
    json!(clean_list(tools, false))
}

/// A new test in `draft`, version 1, nothing done on either side yet.
pub fn draft_row(id: Uuid, new: NewTest, now: DateTime<Utc>) -> security_test::Model {
    security_test::Model {
        id,
        title: new.title.trim().to_owned(),
        description: new.description,
        technique_id: new.technique_id,
        objective: new.objective,
        target_environment: new.target_environment,
        severity: new.severity,
        platform: new.platform,
        campaign_id: new.campaign_id,
        retest_of: new.retest_of,
        template_id: new.template_id,
        procedure: new.procedure,
        expected_detection: new.expected_detection,
        suggested_tools: tools_json(&new.suggested_tools),
        assigned_red_id: new.assigned_red_id,
        assigned_blue_id: new.assigned_blue_id,
        state: TestState::Draft,
        version: 1,
        created_by: new.created_by,
        tool_used: None,
        command_executed: None,
        output_observed: None,
        red_notes: None,
        attacker_ip: None,
        target_ip: None,
        start_time: None,
        end_time: None,
        detection_result: None,
        detection_notes: None,
        alert_fired: None,
        alert_name: None,
        response_action: None,
        time_to_detect_seconds: None,
        blue_notes: None,
        red_validation_status: None,
        red_validation_notes: None,
        red_validated_by: None,
        red_validated_at: None,
        blue_validation_status: None,
        blue_validation_notes: None,
        blue_validated_by: None,
        blue_validated_at: None,
        timer_started_at: None,
        timer_paused_at: None,
        timer_paused_seconds: 0,
        timer_stopped_at: None,
        remediation_status: RemediationStatus::NotStarted,
        remediation_notes: String::new(),
        remediation_owner: None,
        remediation_due_date: None,
        red_submitted_at: None,
        blue_submitted_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts a validated new test in `draft`.
pub async fn insert_draft(
    txn: &DatabaseTransaction,
    new: NewTest,
) -> AppResult<security_test::Model> {
    let row = draft_row(Uuid::new_v4(), new, Utc::now());
    let model = row.into_active_model().reset_all().insert(txn).await?;
    tallies::apply(txn, None, Some(&model)).await?;
    Ok(model)
}

/// One remediation step at `position` (from 1).
#[allow(clippy::too_many_arguments)]
pub fn step_row(
    id: Uuid,
    test_id: Uuid,
    position: i32,
    title: String,
    notes: String,
    status: RemediationStatus,
    assignee_id: Option<Uuid>,
    due_date: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> remediation_step::Model {
    remediation_step::Model {
        id,
        test_id,
        position,
        title,
        notes,
        status,
        assignee_id,
        due_date,
        created_at,
        updated_at: now,
    }
}

/// The execution timer as the row stores it.
pub fn timer_of(model: &security_test::Model) -> Timer {
    Timer {
        started_at: model.timer_started_at,
        paused_at: model.timer_paused_at,
        paused_seconds: model.timer_paused_seconds,
        stopped_at: model.timer_stopped_at,
    }
}

/// Writes `timer` back into the row.
pub fn set_timer(model: &mut security_test::Model, timer: Timer) {
    model.timer_started_at = timer.started_at;
    model.timer_paused_at = timer.paused_at;
    model.timer_paused_seconds = timer.paused_seconds;
    model.timer_stopped_at = timer.stopped_at;
}

/// The test's row, locked for the rest of the transaction (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite's write transactions are already serialised by `begin_write`).
pub async fn lock(txn: &DatabaseTransaction, id: Uuid) -> AppResult<security_test::Model> {
    security_test::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Test {id} not found")))
}

/// A change based on an older version than the current one is refused.
pub fn check_version(model: &security_test::Model, given: Option<i32>) -> AppResult<()> {
    match given {
        Some(version) if version != model.version => Err(AppError::Conflict(format!(
            "The test was changed by someone else since you loaded it (your version {version}, \
             current version {}); reload it and try again",
            model.version
        ))),
        _ => Ok(()),
    }
}

/// Saves `after` (every column), one version up, and moves the test's counters from what
/// `before` (the locked row) counted.
pub async fn save(
    txn: &DatabaseTransaction,
    before: &security_test::Model,
    mut after: security_test::Model,
    now: DateTime<Utc>,
) -> AppResult<security_test::Model> {
    after.version += 1;
    after.updated_at = now;
    let saved = after.into_active_model().reset_all().update(txn).await?;
    tallies::apply(txn, Some(before), Some(&saved)).await?;
    Ok(saved)
}
