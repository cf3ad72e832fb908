//! Changing tests: creation, the red, blue, general and remediation edits, transitions, the
//! dual vote and the timer. Every change runs in one write transaction that locks the test's
//! row, checks the rules of `domain::workflow`, writes the audit entry that the timeline
//! reads, recomputes coverage when the outcome may have changed, and notifies whoever must
//! act next.
use crate::domain::coverage::{Detection, TestOutcome, coverage_status};
use crate::domain::rbac::{Role, Team};
use crate::domain::validation::{check_text, clean_list};
use crate::domain::workflow::{self, Action, Denied, TestState, Vote};
use crate::dto::templates::{InputArgumentDto, SEVERITIES};
use crate::dto::tests::{
    BlueUpdateRequest, CreateTestRequest, DETECTION_RESULTS, FromTemplateRequest,
    REMEDIATION_STATUSES, RedUpdateRequest, RemediationUpdateRequest, TestDetail,
    UpdateTestRequest, VoteRequest,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::context::{Actor, CurrentUser};
use crate::server::db::begin_write;
use crate::server::entities::{remediation_step, security_test, technique, test_template, user};
use crate::server::services::audit::{self, AuditRecord};
use crate::server::services::notifications::{self, NewNotification};
use crate::server::services::tests::{self as reads, ENTITY, state_of, timer_of};
use crate::server::templates::atomics::{InputArgument, fill_arguments};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::net::IpAddr;
use std::str::FromStr;
use uuid::Uuid;

const TITLE_MAX: usize = 300;
const PLATFORM_MAX: usize = 64;

pub fn refusal(denied: Denied) -> AppError {
    match denied.status() {
        403 => AppError::Forbidden(denied.message()),
        _ => AppError::Conflict(denied.message()),
    }
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

fn check_version(model: &security_test::Model, given: Option<i32>) -> AppResult<()> {
    match given {
        Some(version) if version != model.version => Err(AppError::Conflict(format!(
            "The test was changed by someone else since you loaded it (your version {version}, \
             current version {}); reload it and try again",
            model.version
        ))),
        _ => Ok(()),
    }
}

/// Saves `after` (every column), one version up.
async fn save(
    txn: &DatabaseTransaction,
    mut after: security_test::Model,
    now: DateTime<Utc>,
) -> AppResult<security_test::Model> {
    after.version += 1;
    after.updated_at = now;
    Ok(after.into_active_model().reset_all().update(txn).await?)
}

fn general_fields(m: &security_test::Model) -> Value {
    json!({
        "title": m.title,
        "technique_id": m.technique_id,
        "description": m.description,
        "objective": m.objective,
        "target_environment": m.target_environment,
        "severity": m.severity,
        "platform": m.platform,
        "campaign_id": m.campaign_id,
        "retest_of": m.retest_of,
        "procedure": m.procedure,
        "expected_detection": m.expected_detection,
        "suggested_tools": m.suggested_tools,
        "assigned_red_id": m.assigned_red_id,
        "assigned_blue_id": m.assigned_blue_id,
    })
}

fn red_fields(m: &security_test::Model) -> Value {
    json!({
        "tool_used": m.tool_used,
        "command_executed": m.command_executed,
        "output_observed": m.output_observed,
        "red_notes": m.red_notes,
        "attacker_ip": m.attacker_ip,
        "target_ip": m.target_ip,
        "start_time": m.start_time,
        "end_time": m.end_time,
    })
}

fn blue_fields(m: &security_test::Model) -> Value {
    json!({
        "detection_result": m.detection_result,
        "detection_notes": m.detection_notes,
        "alert_fired": m.alert_fired,
        "alert_name": m.alert_name,
        "response_action": m.response_action,
        "time_to_detect_seconds": m.time_to_detect_seconds,
        "blue_notes": m.blue_notes,
    })
}

fn remediation_fields(m: &security_test::Model) -> Value {
    json!({
        "remediation_status": m.remediation_status,
        "remediation_notes": m.remediation_notes,
        "remediation_owner": m.remediation_owner,
        "remediation_due_date": m.remediation_due_date,
    })
}

/// The fields that differ, with their old and new values, for the audit entry.
fn diff(before: &Value, after: &Value) -> (Vec<String>, Value, Value) {
    let (mut old, mut new) = (Map::new(), Map::new());
    let mut changed = Vec::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (key, value) in a {
            if b.get(key) != Some(value) {
                changed.push(key.clone());
                old.insert(key.clone(), b.get(key).cloned().unwrap_or(Value::Null));
                new.insert(key.clone(), value.clone());
            }
        }
    }
    (changed, Value::Object(old), Value::Object(new))
}

/// Records an edit of one section; `false` when nothing changed.
async fn audit_edit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &'static str,
    id: Uuid,
    before: &Value,
    after: &Value,
) -> AppResult<bool> {
    let (changed, old, mut new) = diff(before, after);
    if changed.is_empty() {
        return Ok(false);
    }
    if let Some(map) = new.as_object_mut() {
        map.insert("changed".into(), json!(changed));
    }
    audit::record(
        txn,
        actor,
        AuditRecord::new(action, ENTITY, id).before(old).after(new),
    )
    .await?;
    Ok(true)
}

async fn audit_transition(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    from: TestState,
    to: TestState,
) -> AppResult<()> {
    audit::record(
        txn,
        actor,
        AuditRecord::new("test.transition", ENTITY, id)
            .before(json!({ "state": from.as_str() }))
            .after(json!({ "state": to.as_str() })),
    )
    .await
}

/// `None` for blank text: an empty field is no value.
fn text(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn one_of(field: &str, value: &str, allowed: &[&str], errors: &mut FieldErrors) -> String {
    let value = value.trim().to_lowercase();
    if !allowed.contains(&value.as_str()) {
        errors.insert(
            field.into(),
            format!("Must be one of: {}", allowed.join(", ")),
        );
    }
    value
}

fn check_title(title: &str, errors: &mut FieldErrors) {
    let title = title.trim();
    if title.is_empty() {
        errors.insert("title".into(), "Title is required".into());
    } else if title.chars().count() > TITLE_MAX {
        errors.insert(
            "title".into(),
            format!("Title must be at most {TITLE_MAX} characters"),
        );
    }
}

fn clean_platform(platform: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let platform = text(platform).map(|p| p.trim().to_lowercase());
    if platform
        .as_ref()
        .is_some_and(|p| p.chars().count() > PLATFORM_MAX)
    {
        errors.insert(
            "platform".into(),
            format!("At most {PLATFORM_MAX} characters"),
        );
    }
    platform
}

async fn check_technique(
    conn: &impl ConnectionTrait,
    technique_id: &str,
    errors: &mut FieldErrors,
) -> AppResult<String> {
    let id = technique_id.trim().to_uppercase();
    if id.is_empty() {
        errors.insert("technique_id".into(), "Technique is required".into());
        return Ok(id);
    }
    let known = technique::Entity::find()
        .filter(technique::Column::MitreId.eq(id.clone()))
        .one(conn)
        .await?;
    match known {
        Some(t) if t.deprecated || t.revoked => {
            errors.insert(
                "technique_id".into(),
                format!("{id} is deprecated or revoked in ATT&CK; choose its successor"),
            );
        }
        Some(_) => {}
        None => {
            errors.insert(
                "technique_id".into(),
                format!("Unknown technique '{id}'; sync ATT&CK or create a custom technique"),
            );
        }
    }
    Ok(id)
}

/// The user must exist, be active and, for an assignment to a side, belong to that side (or
/// be an admin).
async fn check_user(
    conn: &impl ConnectionTrait,
    field: &str,
    id: Option<Uuid>,
    team: Option<Team>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found = user::Entity::find_by_id(id).one(conn).await?;
    let Some(found) = found.filter(|u| u.is_active) else {
        errors.insert(field.into(), format!("No active user {id}"));
        return Ok(());
    };
    if let Some(team) = team {
        let role = Role::from_str(&found.role).map_err(|e| AppError::internal(e.to_string()))?;
        if role != Role::Admin && role.team() != Some(team) {
            errors.insert(
                field.into(),
                format!(
                    "{} is a {}, not a member of the {} team",
                    found.display_name,
                    role.label(),
                    team
                ),
            );
        }
    }
    Ok(())
}

/// `retest_of` must name another test, and must not make a cycle.
async fn check_retest_of(
    conn: &impl ConnectionTrait,
    this: Option<Uuid>,
    retest_of: Option<Uuid>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(parent) = retest_of else {
        return Ok(());
    };
    if Some(parent) == this {
        errors.insert("retest_of".into(), "A test cannot retest itself".into());
        return Ok(());
    }
    if security_test::Entity::find_by_id(parent)
        .one(conn)
        .await?
        .is_none()
    {
        errors.insert("retest_of".into(), format!("No test {parent}"));
        return Ok(());
    }
    // Linking to one of its own retests would close a loop.
    if let Some(this) = this
        && is_ancestor(conn, this, parent).await?
    {
        errors.insert(
            "retest_of".into(),
            "That test is already a retest of this one".into(),
        );
    }
    Ok(())
}

/// A new test's assignees (each of their side) and the test it retests.
async fn check_new_links(
    conn: &impl ConnectionTrait,
    red: Option<Uuid>,
    blue: Option<Uuid>,
    retest_of: Option<Uuid>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    check_user(conn, "assigned_red_id", red, Some(Team::Red), errors).await?;
    check_user(conn, "assigned_blue_id", blue, Some(Team::Blue), errors).await?;
    check_retest_of(conn, None, retest_of, errors).await
}

/// Is `ancestor` on the `retest_of` path up from `test`?
async fn is_ancestor(conn: &impl ConnectionTrait, ancestor: Uuid, test: Uuid) -> AppResult<bool> {
    let mut seen = HashSet::new();
    let mut current = Some(test);
    while let Some(id) = current {
        if id == ancestor {
            return Ok(true);
        }
        if !seen.insert(id) {
            break;
        }
        current = security_test::Entity::find_by_id(id)
            .select_only()
            .column(security_test::Column::RetestOf)
            .into_tuple::<Option<Uuid>>()
            .one(conn)
            .await?
            .flatten();
    }
    Ok(false)
}

fn tools_json(tools: &[String]) -> Value {
    json!(clean_list(tools, false))
}

/// Recomputes one technique's coverage from all its tests, with the one coverage rule.
pub async fn recompute_coverage(conn: &impl ConnectionTrait, mitre_id: &str) -> AppResult<()> {
    let rows = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::State)
        .column(security_test::Column::DetectionResult)
        .filter(security_test::Column::TechniqueId.eq(mitre_id))
        .into_tuple::<(String, Option<String>)>()
        .all(conn)
        .await?;
    let outcomes = rows
        .into_iter()
        .map(|(state, detection)| match TestState::from_str(&state) {
            Ok(TestState::Validated) => TestOutcome::Validated(match detection.as_deref() {
                Some("detected") => Detection::Detected,
                Some("partial") => Detection::Partial,
                _ => Detection::NotDetected,
            }),
            Ok(TestState::Rejected) => TestOutcome::Rejected,
            _ => TestOutcome::Active,
        });
    let status = coverage_status(outcomes);
    technique::Entity::update_many()
        .col_expr(
            technique::Column::CoverageStatus,
            Expr::value(status.as_str()),
        )
        .filter(technique::Column::MitreId.eq(mitre_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The users of a side: its assignee when there is one, else everyone in that team.
async fn side_recipients(
    conn: &impl ConnectionTrait,
    assignee: Option<Uuid>,
    roles: &[Role],
) -> AppResult<Vec<Uuid>> {
    match assignee {
        Some(id) => Ok(vec![id]),
        None => notifications::users_with_roles(conn, roles).await,
    }
}

async fn notify_others(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    recipients: Vec<Uuid>,
    kind: &str,
    test: &security_test::Model,
    title: String,
) -> AppResult<()> {
    let mut seen = HashSet::new();
    let recipients: Vec<Uuid> = recipients
        .into_iter()
        .filter(|id| Some(*id) != actor.id && seen.insert(*id))
        .collect();
    notifications::notify(
        conn,
        &recipients,
        NewNotification {
            kind,
            title,
            body: format!("{} ({})", test.title, test.technique_id),
            link: Some(format!("/tests/{}", test.id)),
        },
    )
    .await
}

pub async fn create(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    request: CreateTestRequest,
) -> AppResult<TestDetail> {
    if !workflow::can_create(user.role) {
        return Err(AppError::Forbidden(format!(
            "A {} may not create tests; leads and admins do",
            user.role.label()
        )));
    }
    let txn = begin_write(db).await?;
    let mut errors = FieldErrors::new();
    check_title(&request.title, &mut errors);
    let technique_id = check_technique(&txn, &request.technique_id, &mut errors).await?;
    let severity = match &request.severity {
        Some(s) => one_of("severity", s, &SEVERITIES, &mut errors),
        None => "medium".to_owned(),
    };
    let platform = clean_platform(request.platform.clone(), &mut errors);
    for (field, value) in [
        ("description", &request.description),
        ("objective", &request.objective),
        ("target_environment", &request.target_environment),
        ("procedure", &request.procedure),
        ("expected_detection", &request.expected_detection),
    ] {
        if let Some(value) = value {
            check_text(field, value, &mut errors);
        }
    }
    check_new_links(
        &txn,
        request.assigned_red_id,
        request.assigned_blue_id,
        request.retest_of,
        &mut errors,
    )
    .await?;
    AppError::invalid("The test is not valid", errors)?;
    let model = insert_draft(&txn, user, request, technique_id, severity, platform, None).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new("test.create", ENTITY, model.id).after(general_fields(&model)),
    )
    .await?;
    recompute_coverage(&txn, &model.technique_id).await?;
    txn.commit().await?;
    reads::detail(db, user, model).await
}

/// `POST /tests/from-template`: a draft pre-filled from an active catalog template, its input
/// arguments filled into the command (given values, else defaults), its suggested remediation
/// as the first remediation steps, and the template recorded.
pub async fn create_from_template(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    request: FromTemplateRequest,
) -> AppResult<TestDetail> {
    if !workflow::can_create_from_template(user.role) {
        return Err(AppError::Forbidden(format!(
            "A {} may not create tests from templates",
            user.role.label()
        )));
    }
    let txn = begin_write(db).await?;
    let template = test_template::Entity::find_by_id(request.template_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Template {} not found", request.template_id)))?;
    if !template.is_active {
        return Err(AppError::Conflict(format!(
            "Template \"{}\" is deactivated; an admin can reactivate it",
            template.name
        )));
    }
    let arguments: Vec<InputArgumentDto> =
        serde_json::from_value(template.input_arguments.clone()).unwrap_or_default();
    let mut errors = FieldErrors::new();
    for name in request.input_arguments.keys() {
        if !arguments.iter().any(|a| &a.name == name) {
            errors.insert(
                format!("input_arguments.{name}"),
                format!("The template has no input argument '{name}'"),
            );
        }
    }
    let technique_id = check_technique(&txn, &template.technique_id, &mut errors).await?;
    let severity = match &request.severity {
        Some(s) => one_of("severity", s, &SEVERITIES, &mut errors),
        None => template.severity.clone(),
    };
    let platforms = reads::strings(&template.platforms);
    let platform = clean_platform(
        request
            .platform
            .clone()
            .or_else(|| (platforms.len() == 1).then(|| platforms[0].clone())),
        &mut errors,
    );
    check_new_links(
        &txn,
        request.assigned_red_id,
        request.assigned_blue_id,
        request.retest_of,
        &mut errors,
    )
    .await?;
    let title = request
        .title
        .clone()
        .unwrap_or_else(|| template.name.clone());
    check_title(&title, &mut errors);
    AppError::invalid("The test is not valid", errors)?;

    let as_atomic: Vec<InputArgument> = arguments
        .iter()
        .map(|a| InputArgument {
            name: a.name.clone(),
            description: a.description.clone(),
            kind: a.kind.clone(),
            default: a.default.clone(),
        })
        .collect();
    let command = fill_arguments(&template.command, &as_atomic, &request.input_arguments);
    let mut procedure = match &template.executor_name {
        Some(executor) => format!(
            "# executor: {executor}{}\n{command}",
            if template.elevation_required {
                " (elevation required)"
            } else {
                ""
            }
        ),
        None => command.clone(),
    };
    if let Some(cleanup) = template
        .cleanup_command
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        procedure.push_str("\n\n# cleanup\n");
        procedure.push_str(&fill_arguments(
            cleanup,
            &as_atomic,
            &request.input_arguments,
        ));
    }
    let create = CreateTestRequest {
        title,
        technique_id: technique_id.clone(),
        description: Some(template.description.clone()),
        objective: Some(request.objective.clone().unwrap_or_else(|| {
            format!("Run \"{}\" and verify that it is detected", template.name)
        })),
        target_environment: request.target_environment.clone(),
        severity: None,
        platform: None,
        campaign_id: request.campaign_id,
        retest_of: request.retest_of,
        procedure: Some(procedure),
        expected_detection: Some(template.expected_detection.clone()),
        suggested_tools: Some(reads::strings(&template.suggested_tools)),
        assigned_red_id: request.assigned_red_id,
        assigned_blue_id: request.assigned_blue_id,
    };
    let mut model = insert_draft(
        &txn,
        user,
        create,
        technique_id,
        severity,
        platform,
        Some(template.id),
    )
    .await?;
    // The command as it will run, for the red team to adjust.
    model.command_executed = Some(command).filter(|c| !c.trim().is_empty());
    let model = model.into_active_model().reset_all().update(&txn).await?;
    let now = Utc::now();
    for (position, step) in reads::strings(&template.remediation_steps)
        .into_iter()
        .enumerate()
    {
        remediation_step::Model {
            id: Uuid::new_v4(),
            test_id: model.id,
            position: position as i32 + 1,
            title: step.chars().take(500).collect(),
            notes: String::new(),
            status: "not_started".into(),
            assignee_id: None,
            due_date: None,
            created_at: now,
            updated_at: now,
        }
        .into_active_model()
        .reset_all()
        .insert(&txn)
        .await?;
    }
    let mut after = general_fields(&model);
    if let Some(map) = after.as_object_mut() {
        map.insert("template_id".into(), json!(template.id));
        map.insert("template_name".into(), json!(template.name));
        map.insert("input_arguments".into(), json!(request.input_arguments));
    }
    audit::record(
        &txn,
        actor,
        AuditRecord::new("test.create", ENTITY, model.id).after(after),
    )
    .await?;
    recompute_coverage(&txn, &model.technique_id).await?;
    txn.commit().await?;
    reads::detail(db, user, model).await
}

/// Inserts a validated new test in `draft`.
pub async fn insert_draft(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    request: CreateTestRequest,
    technique_id: String,
    severity: String,
    platform: Option<String>,
    template_id: Option<Uuid>,
) -> AppResult<security_test::Model> {
    let now = Utc::now();
    let model = security_test::ActiveModel {
        id: Set(Uuid::new_v4()),
        title: Set(request.title.trim().to_owned()),
        description: Set(request.description.unwrap_or_default()),
        technique_id: Set(technique_id),
        objective: Set(request.objective.unwrap_or_default()),
        target_environment: Set(request.target_environment.unwrap_or_default()),
        severity: Set(severity),
        platform: Set(platform),
        campaign_id: Set(request.campaign_id),
        retest_of: Set(request.retest_of),
        template_id: Set(template_id),
        procedure: Set(request.procedure.unwrap_or_default()),
        expected_detection: Set(request.expected_detection.unwrap_or_default()),
        suggested_tools: Set(tools_json(&request.suggested_tools.unwrap_or_default())),
        assigned_red_id: Set(request.assigned_red_id),
        assigned_blue_id: Set(request.assigned_blue_id),
        state: Set(TestState::Draft.as_str().to_owned()),
        version: Set(1),
        created_by: Set(user.id),
        tool_used: Set(None),
        command_executed: Set(None),
        output_observed: Set(None),
        red_notes: Set(None),
        attacker_ip: Set(None),
        target_ip: Set(None),
        start_time: Set(None),
        end_time: Set(None),
        detection_result: Set(None),
        detection_notes: Set(None),
        alert_fired: Set(None),
        alert_name: Set(None),
        response_action: Set(None),
        time_to_detect_seconds: Set(None),
        blue_notes: Set(None),
        red_validation_status: Set(None),
        red_validation_notes: Set(None),
        red_validated_by: Set(None),
        red_validated_at: Set(None),
        blue_validation_status: Set(None),
        blue_validation_notes: Set(None),
        blue_validated_by: Set(None),
        blue_validated_at: Set(None),
        timer_started_at: Set(None),
        timer_paused_at: Set(None),
        timer_paused_seconds: Set(0),
        timer_stopped_at: Set(None),
        remediation_status: Set("not_started".into()),
        remediation_notes: Set(String::new()),
        remediation_owner: Set(None),
        remediation_due_date: Set(None),
        red_submitted_at: Set(None),
        blue_submitted_at: Set(None),
        completed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(model.insert(txn).await?)
}

/// `PATCH /tests/{id}`: the general fields, in `draft`.
pub async fn update_general(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: UpdateTestRequest,
) -> AppResult<TestDetail> {
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    workflow::check(user.role, state_of(&model)?, Action::EditGeneral).map_err(refusal)?;
    check_version(&model, request.version)?;
    let mut errors = FieldErrors::new();
    let mut after = model.clone();
    if let Some(title) = request.title {
        check_title(&title, &mut errors);
        after.title = title.trim().to_owned();
    }
    if let Some(technique_id) = request.technique_id {
        after.technique_id = check_technique(&txn, &technique_id, &mut errors).await?;
    }
    if let Some(severity) = request.severity {
        after.severity = one_of("severity", &severity, &SEVERITIES, &mut errors);
    }
    if let Some(platform) = request.platform {
        after.platform = clean_platform(platform, &mut errors);
    }
    for (field, value, target) in [
        ("description", request.description, &mut after.description),
        ("objective", request.objective, &mut after.objective),
        (
            "target_environment",
            request.target_environment,
            &mut after.target_environment,
        ),
        ("procedure", request.procedure, &mut after.procedure),
        (
            "expected_detection",
            request.expected_detection,
            &mut after.expected_detection,
        ),
    ] {
        if let Some(value) = value {
            check_text(field, &value, &mut errors);
            *target = value;
        }
    }
    if let Some(tools) = request.suggested_tools {
        after.suggested_tools = tools_json(&tools);
    }
    if let Some(campaign) = request.campaign_id {
        after.campaign_id = campaign;
    }
    if let Some(retest_of) = request.retest_of {
        check_retest_of(&txn, Some(id), retest_of, &mut errors).await?;
        after.retest_of = retest_of;
    }
    if let Some(red) = request.assigned_red_id {
        check_user(&txn, "assigned_red_id", red, Some(Team::Red), &mut errors).await?;
        after.assigned_red_id = red;
    }
    if let Some(blue) = request.assigned_blue_id {
        check_user(
            &txn,
            "assigned_blue_id",
            blue,
            Some(Team::Blue),
            &mut errors,
        )
        .await?;
        after.assigned_blue_id = blue;
    }
    AppError::invalid("The test is not valid", errors)?;
    let (before_fields, after_fields) = (general_fields(&model), general_fields(&after));
    if !audit_edit(
        &txn,
        actor,
        "test.update",
        id,
        &before_fields,
        &after_fields,
    )
    .await?
    {
        txn.commit().await?;
        return reads::detail(db, user, model).await;
    }
    let saved = save(&txn, after, Utc::now()).await?;
    if saved.technique_id != model.technique_id {
        recompute_coverage(&txn, &model.technique_id).await?;
        recompute_coverage(&txn, &saved.technique_id).await?;
    }
    txn.commit().await?;
    reads::detail(db, user, saved).await
}

fn check_ip(field: &str, value: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let value = text(value)?;
    match IpAddr::from_str(value.trim()) {
        Ok(ip) => Some(ip.to_string()),
        Err(_) => {
            errors.insert(
                field.into(),
                format!("'{value}' is not an IPv4 or IPv6 address"),
            );
            Some(value)
        }
    }
}

/// `PATCH /tests/{id}/red`.
pub async fn update_red(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: RedUpdateRequest,
) -> AppResult<TestDetail> {
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    workflow::check(user.role, state_of(&model)?, Action::EditRed).map_err(refusal)?;
    check_version(&model, request.version)?;
    let mut errors = FieldErrors::new();
    let mut after = model.clone();
    for (field, value, target) in [
        ("tool_used", request.tool_used, &mut after.tool_used),
        (
            "command_executed",
            request.command_executed,
            &mut after.command_executed,
        ),
        (
            "output_observed",
            request.output_observed,
            &mut after.output_observed,
        ),
        ("red_notes", request.red_notes, &mut after.red_notes),
    ] {
        if let Some(value) = value {
            if let Some(v) = &value {
                check_text(field, v, &mut errors);
            }
            *target = text(value);
        }
    }
    if let Some(ip) = request.attacker_ip {
        after.attacker_ip = check_ip("attacker_ip", ip, &mut errors);
    }
    if let Some(ip) = request.target_ip {
        after.target_ip = check_ip("target_ip", ip, &mut errors);
    }
    if let Some(start) = request.start_time {
        after.start_time = start;
    }
    if let Some(end) = request.end_time {
        after.end_time = end;
    }
    if let (Some(start), Some(end)) = (after.start_time, after.end_time)
        && end < start
    {
        errors.insert(
            "end_time".into(),
            format!("end_time ({end}) must not be before start_time ({start})"),
        );
    }
    AppError::invalid("The red team's fields are not valid", errors)?;
    edit_section(
        db,
        txn,
        user,
        actor,
        "test.red_update",
        model,
        after,
        red_fields,
    )
    .await
}

/// Audits and saves an edit of one section, or changes nothing when nothing differs.
#[allow(clippy::too_many_arguments)]
async fn edit_section(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    user: &CurrentUser,
    actor: &Actor,
    action: &'static str,
    before: security_test::Model,
    after: security_test::Model,
    fields: fn(&security_test::Model) -> Value,
) -> AppResult<TestDetail> {
    let id = before.id;
    let saved = if audit_edit(&txn, actor, action, id, &fields(&before), &fields(&after)).await? {
        save(&txn, after, Utc::now()).await?
    } else {
        before
    };
    txn.commit().await?;
    reads::detail(db, user, saved).await
}

/// `PATCH /tests/{id}/blue`.
pub async fn update_blue(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: BlueUpdateRequest,
) -> AppResult<TestDetail> {
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    workflow::check(user.role, state_of(&model)?, Action::EditBlue).map_err(refusal)?;
    check_version(&model, request.version)?;
    let mut errors = FieldErrors::new();
    let mut after = model.clone();
    if let Some(result) = request.detection_result {
        after.detection_result =
            text(result).map(|r| one_of("detection_result", &r, &DETECTION_RESULTS, &mut errors));
    }
    for (field, value, target) in [
        (
            "detection_notes",
            request.detection_notes,
            &mut after.detection_notes,
        ),
        ("alert_name", request.alert_name, &mut after.alert_name),
        (
            "response_action",
            request.response_action,
            &mut after.response_action,
        ),
        ("blue_notes", request.blue_notes, &mut after.blue_notes),
    ] {
        if let Some(value) = value {
            if let Some(v) = &value {
                check_text(field, v, &mut errors);
            }
            *target = text(value);
        }
    }
    if let Some(fired) = request.alert_fired {
        after.alert_fired = fired;
    }
    if let Some(seconds) = request.time_to_detect_seconds {
        if seconds.is_some_and(|s| s < 0) {
            errors.insert(
                "time_to_detect_seconds".into(),
                "Must be 0 or more seconds".into(),
            );
        }
        after.time_to_detect_seconds = seconds;
    }
    AppError::invalid("The blue team's fields are not valid", errors)?;
    edit_section(
        db,
        txn,
        user,
        actor,
        "test.blue_update",
        model,
        after,
        blue_fields,
    )
    .await
}

/// `PATCH /tests/{id}/remediation`: the fields and, when `steps` is given, the whole ordered
/// list of steps. Leads and admins, in every state.
pub async fn update_remediation(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: RemediationUpdateRequest,
) -> AppResult<TestDetail> {
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    workflow::check(user.role, state_of(&model)?, Action::EditRemediation).map_err(refusal)?;
    check_version(&model, request.version)?;
    let mut errors = FieldErrors::new();
    let mut after = model.clone();
    if let Some(status) = &request.remediation_status {
        after.remediation_status = one_of(
            "remediation_status",
            status,
            &REMEDIATION_STATUSES,
            &mut errors,
        );
    }
    if let Some(notes) = request.remediation_notes {
        check_text("remediation_notes", &notes, &mut errors);
        after.remediation_notes = notes;
    }
    if let Some(owner) = request.remediation_owner {
        check_user(&txn, "remediation_owner", owner, None, &mut errors).await?;
        after.remediation_owner = owner;
    }
    if let Some(due) = request.remediation_due_date {
        after.remediation_due_date = due;
    }
    let existing = remediation_step::Entity::find()
        .filter(remediation_step::Column::TestId.eq(id))
        .all(&txn)
        .await?;
    if let Some(steps) = &request.steps {
        let known: HashSet<Uuid> = existing.iter().map(|s| s.id).collect();
        for (i, step) in steps.iter().enumerate() {
            let title = step.title.trim();
            if title.is_empty() || title.chars().count() > 500 {
                errors.insert(
                    format!("steps[{i}].title"),
                    "A step needs a title of at most 500 characters".into(),
                );
            }
            if let Some(status) = &step.status {
                one_of(
                    &format!("steps[{i}].status"),
                    status,
                    &REMEDIATION_STATUSES,
                    &mut errors,
                );
            }
            if let Some(step_id) = step.id
                && !known.contains(&step_id)
            {
                errors.insert(
                    format!("steps[{i}].id"),
                    format!("Step {step_id} is not a step of this test"),
                );
            }
            check_user(
                &txn,
                &format!("steps[{i}].assignee_id"),
                step.assignee_id,
                None,
                &mut errors,
            )
            .await?;
        }
    }
    AppError::invalid("The remediation is not valid", errors)?;
    let now = Utc::now();
    let mut step_changes = false;
    let mut newly_assigned: Vec<(Uuid, String)> = Vec::new();
    if let Some(steps) = request.steps {
        let before_steps: Vec<Value> = existing
            .iter()
            .map(|s| json!({"id": s.id, "title": s.title, "status": s.status, "assignee_id": s.assignee_id}))
            .collect();
        let keep: HashSet<Uuid> = steps.iter().filter_map(|s| s.id).collect();
        let removed: Vec<Uuid> = existing
            .iter()
            .filter(|s| !keep.contains(&s.id))
            .map(|s| s.id)
            .collect();
        if !removed.is_empty() {
            remediation_step::Entity::delete_many()
                .filter(remediation_step::Column::Id.is_in(removed))
                .exec(&txn)
                .await?;
        }
        let mut after_steps = Vec::new();
        for (position, step) in steps.into_iter().enumerate() {
            let old = step
                .id
                .and_then(|sid| existing.iter().find(|s| s.id == sid));
            let row = remediation_step::Model {
                id: step.id.unwrap_or_else(Uuid::new_v4),
                test_id: id,
                position: position as i32 + 1,
                title: step.title.trim().to_owned(),
                notes: step.notes.unwrap_or_default(),
                status: step
                    .status
                    .map(|s| s.trim().to_lowercase())
                    .unwrap_or_else(|| "not_started".into()),
                assignee_id: step.assignee_id,
                due_date: step.due_date,
                created_at: old.map(|o| o.created_at).unwrap_or(now),
                updated_at: now,
            };
            if let Some(assignee) = row.assignee_id
                && old.and_then(|o| o.assignee_id) != Some(assignee)
            {
                newly_assigned.push((assignee, row.title.clone()));
            }
            after_steps.push(json!({"id": row.id, "title": row.title, "status": row.status, "assignee_id": row.assignee_id}));
            let active = row.into_active_model().reset_all();
            if old.is_some() {
                active.update(&txn).await?;
            } else {
                active.insert(&txn).await?;
            }
        }
        step_changes = before_steps != after_steps;
        if step_changes {
            audit::record(
                &txn,
                actor,
                AuditRecord::new("test.remediation_update", ENTITY, id)
                    .before(json!({ "steps": before_steps }))
                    .after(json!({ "steps": after_steps, "changed": ["steps"] })),
            )
            .await?;
        }
    }
    let fields_changed = audit_edit(
        &txn,
        actor,
        "test.remediation_update",
        id,
        &remediation_fields(&model),
        &remediation_fields(&after),
    )
    .await?;
    let owner_assigned = after
        .remediation_owner
        .filter(|o| model.remediation_owner != Some(*o));
    let saved = if fields_changed || step_changes {
        save(&txn, after, now).await?
    } else {
        model
    };
    if let Some(owner) = owner_assigned {
        notify_others(
            &txn,
            actor,
            vec![owner],
            "remediation.assigned",
            &saved,
            format!("You own the remediation of \"{}\"", saved.title),
        )
        .await?;
    }
    for (assignee, step) in newly_assigned {
        notify_others(
            &txn,
            actor,
            vec![assignee],
            "remediation.step_assigned",
            &saved,
            format!("Remediation step assigned to you: {step}"),
        )
        .await?;
    }
    txn.commit().await?;
    reads::detail(db, user, saved).await
}

/// `start-execution`, `submit-red`, `submit-blue` and `reopen`.
pub async fn transition(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    action: Action,
    version: Option<i32>,
) -> AppResult<TestDetail> {
    let Some(target) = action.target() else {
        return Err(AppError::internal(format!(
            "{action:?} is not a transition"
        )));
    };
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    let from = state_of(&model)?;
    workflow::check(user.role, from, action).map_err(refusal)?;
    check_version(&model, version)?;
    let now = Utc::now();
    let mut after = model.clone();
    after.state = target.as_str().to_owned();
    match action {
        Action::StartExecution => {
            let timer = workflow::Timer::started(now);
            after.timer_started_at = timer.started_at;
            after.timer_paused_at = None;
            after.timer_paused_seconds = 0;
            after.timer_stopped_at = None;
        }
        Action::SubmitRed => {
            let mut timer = timer_of(&model);
            timer.stop(now);
            after.timer_paused_at = timer.paused_at;
            after.timer_paused_seconds = timer.paused_seconds;
            after.timer_stopped_at = timer.stopped_at;
            after.red_submitted_at = Some(now);
        }
        Action::SubmitBlue => {
            if model.detection_result.is_none() {
                return Err(AppError::field(
                    "detection_result",
                    "Record the detection result (detected, not_detected or partial) before \
                     submitting",
                ));
            }
            after.blue_submitted_at = Some(now);
        }
        Action::Reopen => {
            after.red_validation_status = None;
            after.red_validation_notes = None;
            after.red_validated_by = None;
            after.red_validated_at = None;
            after.blue_validation_status = None;
            after.blue_validation_notes = None;
            after.blue_validated_by = None;
            after.blue_validated_at = None;
            after.completed_at = None;
        }
        _ => {}
    }
    let saved = save(&txn, after, now).await?;
    audit_transition(&txn, actor, id, from, target).await?;
    match action {
        Action::SubmitRed => {
            let to = side_recipients(
                &txn,
                saved.assigned_blue_id,
                &[Role::BlueTech, Role::BlueLead],
            )
            .await?;
            notify_others(
                &txn,
                actor,
                to,
                "test.awaiting_blue",
                &saved,
                format!(
                    "Red team submitted \"{}\": your evaluation is needed",
                    saved.title
                ),
            )
            .await?;
        }
        Action::SubmitBlue => {
            let leads =
                notifications::users_with_roles(&txn, &[Role::RedLead, Role::BlueLead]).await?;
            notify_others(
                &txn,
                actor,
                leads,
                "test.in_review",
                &saved,
                format!("\"{}\" is ready for validation", saved.title),
            )
            .await?;
        }
        Action::Reopen => {
            let mut to = vec![saved.created_by];
            to.extend(saved.assigned_red_id);
            notify_others(
                &txn,
                actor,
                to,
                "test.reopened",
                &saved,
                format!("\"{}\" was reopened", saved.title),
            )
            .await?;
            recompute_coverage(&txn, &saved.technique_id).await?;
        }
        _ => {}
    }
    txn.commit().await?;
    reads::detail(db, user, saved).await
}

/// `validate-red` / `validate-blue`. Each side votes once; two votes at the same moment both
/// count, because each vote reads the other under the row lock.
pub async fn vote(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    team: Team,
    request: VoteRequest,
) -> AppResult<TestDetail> {
    let notes = request.notes.unwrap_or_default();
    if notes.len() > crate::domain::validation::TEXT_MAX {
        return Err(AppError::field("notes", "Notes are too long"));
    }
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    let from = state_of(&model)?;
    let parse = |v: &Option<String>| match v.as_deref() {
        Some("approved") => Some(Vote::Approved),
        Some("rejected") => Some(Vote::Rejected),
        _ => None,
    };
    let (mut red, mut blue) = (
        parse(&model.red_validation_status),
        parse(&model.blue_validation_status),
    );
    let current = match team {
        Team::Red => red,
        Team::Blue => blue,
    };
    workflow::check_vote(user.role, from, team, current).map_err(refusal)?;
    let now = Utc::now();
    let mut after = model.clone();
    let status = Some(request.status.as_str().to_owned());
    let notes_value = Some(notes.clone()).filter(|n| !n.trim().is_empty());
    match team {
        Team::Red => {
            red = Some(request.status);
            after.red_validation_status = status;
            after.red_validation_notes = notes_value;
            after.red_validated_by = Some(user.id);
            after.red_validated_at = Some(now);
        }
        Team::Blue => {
            blue = Some(request.status);
            after.blue_validation_status = status;
            after.blue_validation_notes = notes_value;
            after.blue_validated_by = Some(user.id);
            after.blue_validated_at = Some(now);
        }
    }
    let outcome = workflow::review_outcome(red, blue);
    after.state = outcome.as_str().to_owned();
    if outcome != TestState::InReview {
        after.completed_at = Some(now);
    }
    let saved = save(&txn, after, now).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new("test.vote", ENTITY, id).after(json!({
            "team": team.as_str(),
            "status": request.status.as_str(),
            "notes": notes,
        })),
    )
    .await?;
    if outcome != from {
        audit_transition(&txn, actor, id, from, outcome).await?;
        recompute_coverage(&txn, &saved.technique_id).await?;
        let mut to = vec![saved.created_by];
        to.extend(saved.assigned_red_id);
        to.extend(saved.assigned_blue_id);
        let (kind, title) = if outcome == TestState::Validated {
            (
                "test.validated",
                format!("\"{}\" was validated", saved.title),
            )
        } else {
            ("test.rejected", format!("\"{}\" was rejected", saved.title))
        };
        notify_others(&txn, actor, to, kind, &saved, title).await?;
    }
    txn.commit().await?;
    reads::detail(db, user, saved).await
}

/// `pause-timer` / `resume-timer`.
pub async fn timer(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    pause: bool,
) -> AppResult<TestDetail> {
    let action = if pause {
        Action::PauseTimer
    } else {
        Action::ResumeTimer
    };
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    workflow::check(user.role, state_of(&model)?, action).map_err(refusal)?;
    let now = Utc::now();
    let mut timer = timer_of(&model);
    let result = if pause {
        timer.pause(now)
    } else {
        timer.resume(now)
    };
    result.map_err(|e| AppError::Conflict(e.message().into()))?;
    let mut after = model.clone();
    after.timer_paused_at = timer.paused_at;
    after.timer_paused_seconds = timer.paused_seconds;
    let saved = save(&txn, after, now).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(
            if pause {
                "test.timer_pause"
            } else {
                "test.timer_resume"
            },
            ENTITY,
            id,
        )
        .after(json!({ "elapsed_seconds": timer.elapsed_seconds(now) })),
    )
    .await?;
    txn.commit().await?;
    reads::detail(db, user, saved).await
}
