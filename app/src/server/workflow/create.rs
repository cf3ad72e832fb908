//! Creating tests: from scratch (`POST /tests`) and from a catalog template.
use super::checks::{check_new_links, check_technique};
use super::coverage::recompute_coverage;
use super::reads;
use super::rows::{NewTest, insert_draft, step_row};
use super::snapshots::general_fields;
use crate::domain::audit::TestEvent;
use crate::domain::test_input::{check_title, choice, clean_platform};
use crate::domain::validation::check_text;
use crate::domain::values::{RemediationStatus, Severity};
use crate::domain::workflow;
use crate::dto::catalog::{InputArgumentDto, SourceDetails};
use crate::dto::workflow::{CreateTestRequest, FromTemplateRequest, TestDetail};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::campaigns::members::check_for_test;
use crate::server::catalog::templates::source_details;
use crate::server::entities::{security_test, test_template};
use crate::server::importers::atomics::parse::{InputArgument, fill_arguments};
use crate::server::importers::caldera;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel,
};
use serde_json::json;
use uuid::Uuid;

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
        Some(s) => choice("severity", s, &mut errors).unwrap_or_default(),
        None => Severity::Medium,
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
    check_for_test(
        &txn,
        request.campaign_id,
        workflow::TestState::Draft,
        &mut errors,
    )
    .await?;
    AppError::invalid("The test is not valid", errors)?;
    let new = NewTest {
        title: request.title,
        description: request.description.unwrap_or_default(),
        technique_id,
        objective: request.objective.unwrap_or_default(),
        target_environment: request.target_environment.unwrap_or_default(),
        severity,
        platform,
        campaign_id: request.campaign_id,
        retest_of: request.retest_of,
        template_id: None,
        procedure: request.procedure.unwrap_or_default(),
        expected_detection: request.expected_detection.unwrap_or_default(),
        suggested_tools: request.suggested_tools.unwrap_or_default(),
        assigned_red_id: request.assigned_red_id,
        assigned_blue_id: request.assigned_blue_id,
        created_by: user.id,
    };
    let model = insert_draft(&txn, new).await?;
    let event = TestEvent::Created {
        after: general_fields(&model),
    };
    audit::record(&txn, actor, AuditRecord::test_event(model.id, &event)).await?;
    recompute_coverage(&txn, &model.technique_id).await?;
    txn.commit().await?;
    reads::detail(db, user, model).await
}

/// What a template's test runs: its command, executor and cleanup, or those of the
/// executor a CALDERA ability has for the test's platform.
pub(crate) struct Runnable<'a> {
    executor: Option<String>,
    command: &'a str,
    cleanup: Option<&'a str>,
}

/// The CALDERA executor for `platform`, when the template is an ability; an ability without
/// one for the platform is a field error naming the platforms it has.
fn runnable<'a>(
    template: &'a test_template::Model,
    details: &'a Option<SourceDetails>,
    platform: Option<&str>,
    errors: &mut FieldErrors,
) -> Runnable<'a> {
    let default = Runnable {
        executor: template.executor_name.clone(),
        command: &template.command,
        cleanup: template.cleanup_command.as_deref(),
    };
    let (Some(SourceDetails::Caldera(caldera)), Some(platform)) = (details, platform) else {
        return default;
    };
    match caldera.executors.iter().find(|e| e.platform == platform) {
        Some(executor) => Runnable {
            executor: Some(caldera::parse::executor_name(&executor.executor)),
            command: &executor.command,
            cleanup: executor.cleanup.as_deref(),
        },
        None => {
            let mut platforms: Vec<&str> = caldera
                .executors
                .iter()
                .map(|e| e.platform.as_str())
                .collect();
            platforms.dedup();
            errors.insert(
                "platform".into(),
                format!(
                    "This CALDERA ability has no executor for {platform}; it runs on {}",
                    platforms.join(", ")
                ),
            );
            default
        }
    }
}

/// The procedure a template's test runs: its command with the arguments filled in, under a
/// line naming the executor, and its cleanup.
fn procedure_of(
    template: &test_template::Model,
    runnable: &Runnable<'_>,
    arguments: &[InputArgument],
    values: &std::collections::BTreeMap<String, String>,
) -> (String, String) {
    let command = fill_arguments(runnable.command, arguments, values);
    let mut procedure = match &runnable.executor {
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
    if let Some(cleanup) = runnable.cleanup.filter(|c| !c.trim().is_empty()) {
        procedure.push_str("\n\n# cleanup\n");
        procedure.push_str(&fill_arguments(cleanup, arguments, values));
    }
    (command, procedure)
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
        Some(s) => choice("severity", s, &mut errors).unwrap_or_default(),
        None => template.severity,
    };
    let platforms = reads::strings(&template.platforms);
    let platform = clean_platform(
        request
            .platform
            .clone()
            .or_else(|| (platforms.len() == 1).then(|| platforms[0].clone())),
        &mut errors,
    );
    let details = source_details(&template);
    let runnable = runnable(&template, &details, platform.as_deref(), &mut errors);
    check_new_links(
        &txn,
        request.assigned_red_id,
        request.assigned_blue_id,
        request.retest_of,
        &mut errors,
    )
    .await?;
    check_for_test(
        &txn,
        request.campaign_id,
        workflow::TestState::Draft,
        &mut errors,
    )
    .await?;
    let title = request
        .title
        .clone()
        .unwrap_or_else(|| template.name.clone());
    check_title(&title, &mut errors);
    AppError::invalid("The test is not valid", errors)?;

    let new = NewTest {
        title,
        description: template.description.clone(),
        technique_id,
        objective: request
            .objective
            .clone()
            .unwrap_or_else(|| format!("Run \"{}\" and verify that it is detected", template.name)),
        target_environment: request.target_environment.clone().unwrap_or_default(),
        severity,
        platform,
        campaign_id: request.campaign_id,
        retest_of: request.retest_of,
        template_id: Some(template.id),
        procedure: String::new(),
        expected_detection: template.expected_detection.clone(),
        suggested_tools: reads::strings(&template.suggested_tools),
        assigned_red_id: request.assigned_red_id,
        assigned_blue_id: request.assigned_blue_id,
        created_by: user.id,
    };
    let model = insert_from_template(
        &txn,
        &template,
        &arguments,
        &runnable,
        &request.input_arguments,
        new,
    )
    .await?;
    let mut after = general_fields(&model);
    if let Some(map) = after.as_object_mut() {
        map.insert("template_id".into(), json!(template.id));
        map.insert("template_name".into(), json!(template.name));
        map.insert("input_arguments".into(), json!(request.input_arguments));
    }
    let event = TestEvent::Created { after };
    audit::record(&txn, actor, AuditRecord::test_event(model.id, &event)).await?;
    recompute_coverage(&txn, &model.technique_id).await?;
    txn.commit().await?;
    reads::detail(db, user, model).await
}

/// Inserts `new` as a draft of `template`: its command with the arguments filled in (given
/// `values`, else defaults) as the procedure and as the command to run, and its suggested
/// remediation as the first remediation steps. Not audited: the caller audits the creation.
pub(crate) async fn insert_from_template(
    txn: &DatabaseTransaction,
    template: &test_template::Model,
    arguments: &[InputArgumentDto],
    runnable: &Runnable<'_>,
    values: &std::collections::BTreeMap<String, String>,
    mut new: NewTest,
) -> AppResult<security_test::Model> {
    let as_atomic: Vec<InputArgument> = arguments
        .iter()
        .map(|a| InputArgument {
            name: a.name.clone(),
            description: a.description.clone(),
            kind: a.kind.clone(),
            default: a.default.clone(),
        })
        .collect();
    let (command, procedure) = procedure_of(template, runnable, &as_atomic, values);
    new.procedure = procedure;
    let mut model = insert_draft(txn, new).await?;
    // The command as it will run, for the red team to adjust.
    model.command_executed = Some(command).filter(|c| !c.trim().is_empty());
    let model = model.into_active_model().reset_all().update(txn).await?;
    let now = Utc::now();
    for (position, step) in reads::strings(&template.remediation_steps)
        .into_iter()
        .enumerate()
    {
        step_row(
            Uuid::new_v4(),
            model.id,
            position as i32 + 1,
            step.chars().take(500).collect(),
            String::new(),
            RemediationStatus::NotStarted,
            None,
            None,
            now,
            now,
        )
        .into_active_model()
        .reset_all()
        .insert(txn)
        .await?;
    }
    Ok(model)
}

/// A generated draft of `template` for `platform` (a CALDERA ability's executor for it, else
/// the template's own command), with the arguments' defaults.
pub(crate) async fn insert_generated(
    txn: &DatabaseTransaction,
    template: &test_template::Model,
    new: NewTest,
) -> AppResult<security_test::Model> {
    let arguments: Vec<InputArgumentDto> =
        serde_json::from_value(template.input_arguments.clone()).unwrap_or_default();
    let details = source_details(template);
    let mut ignored = FieldErrors::new();
    let runnable = runnable(template, &details, new.platform.as_deref(), &mut ignored);
    insert_from_template(
        txn,
        template,
        &arguments,
        &runnable,
        &Default::default(),
        new,
    )
    .await
}
