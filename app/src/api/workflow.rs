//! Server functions of the test pages. Forms send text; blank text means "no value" and the
//! services validate everything, exactly as for the REST API.
// A form posts one argument per field.
#![allow(clippy::too_many_arguments)]
use crate::dto::workflow::{
    EvidenceDownload, TestDetail, TestPage, TestQuery, TestSummary, TimelineEntry,
};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use super::form;

#[server(prefix = "/api/fn", endpoint = "list_tests")]
pub async fn list_tests(#[server(default)] query: TestQuery) -> Result<TestPage, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::reads;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            reads::list(&ctx.state.db, user, &query).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_test")]
pub async fn get_test(id: Uuid) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::reads;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            reads::get(&ctx.state.db, user, id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "test_history")]
pub async fn test_history(id: Uuid) -> Result<(Vec<TimelineEntry>, Vec<TestSummary>), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::reads;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let db = &ctx.state.db;
            Ok((
                reads::timeline(db, id).await?,
                reads::retest_chain(db, id).await?,
            ))
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_test")]
pub async fn create_test(
    title: String,
    technique_id: String,
    objective: String,
    target_environment: String,
    severity: String,
    platform: String,
    description: String,
    procedure: String,
    expected_detection: String,
    retest_of: String,
    assigned_red_id: String,
    assigned_blue_id: String,
    #[server(default)] campaign_id: String,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::CreateTestRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use form::{id, text};
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = CreateTestRequest {
                retest_of: id("retest_of", retest_of)?,
                campaign_id: id("campaign_id", campaign_id)?,
                assigned_red_id: id("assigned_red_id", assigned_red_id)?,
                assigned_blue_id: id("assigned_blue_id", assigned_blue_id)?,
                title,
                technique_id,
                description: text(description),
                objective: text(objective),
                target_environment: text(target_environment),
                severity: text(severity),
                platform: text(platform),
                procedure: text(procedure),
                expected_detection: text(expected_detection),
                ..Default::default()
            };
            workflow::create(&ctx.state.db, user, &ctx.actor(), request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "update_test")]
pub async fn update_test(
    id: Uuid,
    version: i32,
    title: String,
    objective: String,
    target_environment: String,
    severity: String,
    platform: String,
    description: String,
    procedure: String,
    expected_detection: String,
    assigned_red_id: String,
    assigned_blue_id: String,
    #[server(default)] campaign_id: Option<String>,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::UpdateTestRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use form::{id as parse_id, text};
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = UpdateTestRequest {
                version: Some(version),
                title: Some(title),
                objective: Some(objective),
                target_environment: Some(target_environment),
                severity: Some(severity),
                platform: Some(text(platform)),
                description: Some(description),
                procedure: Some(procedure),
                expected_detection: Some(expected_detection),
                assigned_red_id: Some(parse_id("assigned_red_id", assigned_red_id)?),
                assigned_blue_id: Some(parse_id("assigned_blue_id", assigned_blue_id)?),
                // Only a form that shows the picker sends the field.
                campaign_id: campaign_id
                    .map(|c| parse_id("campaign_id", c))
                    .transpose()?,
                ..Default::default()
            };
            workflow::update_general(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "update_test_red")]
pub async fn update_test_red(
    id: Uuid,
    version: i32,
    tool_used: String,
    command_executed: String,
    output_observed: String,
    red_notes: String,
    attacker_ip: String,
    target_ip: String,
    start_time: String,
    end_time: String,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::RedUpdateRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use form::{text, time};
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = RedUpdateRequest {
                version: Some(version),
                tool_used: Some(text(tool_used)),
                command_executed: Some(text(command_executed)),
                output_observed: Some(text(output_observed)),
                red_notes: Some(text(red_notes)),
                attacker_ip: Some(text(attacker_ip)),
                target_ip: Some(text(target_ip)),
                start_time: Some(time("start_time", start_time)?),
                end_time: Some(time("end_time", end_time)?),
            };
            workflow::update_red(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "update_test_blue")]
pub async fn update_test_blue(
    id: Uuid,
    version: i32,
    detection_result: String,
    detection_notes: String,
    alert_fired: String,
    alert_name: String,
    response_action: String,
    time_to_detect_seconds: String,
    blue_notes: String,
    // The rules that fired, as the picker keeps them: a JSON list of rule ids; absent: unchanged.
    #[server(default)] fired_rules: Option<String>,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::BlueUpdateRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use form::text;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let seconds = match text(time_to_detect_seconds) {
                None => None,
                Some(s) => Some(s.parse::<i64>().map_err(|_| {
                    AppError::field("time_to_detect_seconds", "A whole number of seconds")
                })?),
            };
            let request = BlueUpdateRequest {
                version: Some(version),
                detection_result: Some(text(detection_result)),
                detection_notes: Some(text(detection_notes)),
                alert_fired: Some(match alert_fired.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                }),
                alert_name: Some(text(alert_name)),
                response_action: Some(text(response_action)),
                time_to_detect_seconds: Some(seconds),
                blue_notes: Some(text(blue_notes)),
                fired_rule_ids: match fired_rules.filter(|f| !f.trim().is_empty()) {
                    None => None,
                    Some(json) => Some(serde_json::from_str(&json).map_err(|_| {
                        AppError::field("fired_rule_ids", "A list of detection rule ids")
                    })?),
                },
            };
            workflow::update_blue(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// `steps` is the JSON list the remediation editor keeps (`RemediationStepInput`s).
#[server(prefix = "/api/fn", endpoint = "update_test_remediation")]
pub async fn update_test_remediation(
    id: Uuid,
    version: i32,
    remediation_status: String,
    remediation_notes: String,
    remediation_due_date: String,
    remediation_owner: String,
    steps: String,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::{RemediationStepInput, RemediationUpdateRequest};
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use form::text;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let due = match text(remediation_due_date) {
                None => None,
                Some(d) => Some(
                    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                        .map_err(|_| AppError::field("remediation_due_date", "Not a date"))?,
                ),
            };
            let steps: Vec<RemediationStepInput> = serde_json::from_str(&steps)
                .map_err(|e| AppError::field("steps", format!("Unreadable steps: {e}")))?;
            let request = RemediationUpdateRequest {
                version: Some(version),
                remediation_status: Some(remediation_status),
                remediation_notes: Some(remediation_notes),
                remediation_owner: Some(form::id("remediation_owner", remediation_owner)?),
                remediation_due_date: Some(due),
                steps: Some(steps),
            };
            workflow::update_remediation(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// A transition or a timer action, by its `Action::slug`.
#[server(prefix = "/api/fn", endpoint = "test_action")]
pub async fn test_action(id: Uuid, action: String, version: i32) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::domain::workflow::Action;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let (db, actor) = (&ctx.state.db, ctx.actor());
            match action.as_str() {
                "pause_timer" => workflow::timer(db, user, &actor, id, true).await,
                "resume_timer" => workflow::timer(db, user, &actor, id, false).await,
                slug => {
                    let action = Action::ALL
                        .into_iter()
                        .find(|a| a.slug() == slug && a.target().is_some())
                        .ok_or_else(|| AppError::BadRequest(format!("Unknown action '{slug}'")))?;
                    workflow::transition(db, user, &actor, id, action, Some(version)).await
                }
            }
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "vote_test")]
pub async fn vote_test(
    id: Uuid,
    team: String,
    status: String,
    notes: String,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::{Permission, Team};
    use crate::domain::workflow::Vote;
    use crate::dto::workflow::VoteRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use std::str::FromStr;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let team = Team::from_str(&team).map_err(|e| AppError::field("team", e))?;
            let status = match status.as_str() {
                "approved" => Vote::Approved,
                "rejected" => Vote::Rejected,
                _ => return Err(AppError::field("status", "Approve or reject")),
            };
            let request = VoteRequest {
                status,
                notes: Some(notes),
            };
            workflow::vote(&ctx.state.db, user, &ctx.actor(), id, team, request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "evidence_link")]
pub async fn evidence_link(id: Uuid) -> Result<EvidenceDownload, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::evidence;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            evidence::download_info(&ctx.state.db, &ctx.state.evidence, &ctx.actor(), id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "log_work")]
pub async fn log_work(
    test_id: Uuid,
    minutes: String,
    note: String,
    started_at: String,
) -> Result<crate::dto::workflow::WorklogEntryDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::WorklogInput;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::worklog;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let minutes = form::minutes(&minutes)?;
            let input = WorklogInput {
                minutes,
                note,
                started_at: form::time("started_at", started_at)?,
            };
            worklog::create(&ctx.state.db, user, &ctx.actor(), test_id, input).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_worklog")]
pub async fn delete_worklog(test_id: Uuid, entry_id: Uuid) -> Result<(), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::worklog;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            worklog::delete(&ctx.state.db, user, &ctx.actor(), test_id, entry_id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "edit_worklog")]
pub async fn edit_worklog(
    test_id: Uuid,
    entry_id: Uuid,
    minutes: String,
    note: String,
    started_at: String,
) -> Result<crate::dto::workflow::WorklogEntryDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::WorklogUpdate;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::worklog;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let minutes = form::minutes(&minutes)?;
            let input = WorklogUpdate {
                minutes: Some(minutes),
                note: Some(note),
                // The form always sends the start: blank clears it.
                started_at: Some(form::time("started_at", started_at)?),
            };
            worklog::update(&ctx.state.db, user, &ctx.actor(), test_id, entry_id, input).await
        }
        .await,
    )
}
