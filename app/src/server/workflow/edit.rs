//! Editing a test's sections: the general fields (in draft), the red team's and the blue
//! team's. Each edit is audited with the fields it changed; an edit that changes nothing
//! writes nothing.
use super::checks::{check_retest_of, check_technique, check_user, refusal};
use super::coverage::recompute_coverage;
use super::fired_rules;
use super::reads;
use super::rows::{check_version, lock, save, tools_json};
use super::snapshots::{audit_edit, fields};
use crate::domain::audit::Section;
use crate::domain::rbac::Team;
use crate::domain::test_input::{
    check_ip, check_time_to_detect, check_title, check_window, choice, clean_platform,
    optional_text, text,
};
use crate::domain::validation::check_text;
use crate::domain::workflow::{self, Action};
use crate::dto::workflow::{BlueUpdateRequest, RedUpdateRequest, TestDetail, UpdateTestRequest};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::campaigns::members::check_for_test;
use crate::server::entities::security_test;
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use uuid::Uuid;

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
    workflow::check(user.role, model.state, Action::EditGeneral).map_err(refusal)?;
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
    if let Some(severity) = request.severity
        && let Some(severity) = choice("severity", &severity, &mut errors)
    {
        after.severity = severity;
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
    if let Some(campaign) = request.campaign_id
        && campaign != model.campaign_id
    {
        check_for_test(&txn, campaign, model.state, &mut errors).await?;
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
    let (before_fields, after_fields) = (
        fields(Section::General, &model),
        fields(Section::General, &after),
    );
    if !audit_edit(
        &txn,
        actor,
        Section::General,
        id,
        &before_fields,
        &after_fields,
    )
    .await?
    {
        txn.commit().await?;
        return reads::detail(db, user, model).await;
    }
    let saved = save(&txn, &model, after, Utc::now()).await?;
    if saved.technique_id != model.technique_id {
        recompute_coverage(&txn, &model.technique_id).await?;
        recompute_coverage(&txn, &saved.technique_id).await?;
    }
    txn.commit().await?;
    reads::detail(db, user, saved).await
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
    workflow::check(user.role, model.state, Action::EditRed).map_err(refusal)?;
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
            *target = optional_text(field, value, &mut errors);
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
    check_window(after.start_time, after.end_time, &mut errors);
    AppError::invalid("The red team's fields are not valid", errors)?;
    edit_section(db, txn, user, actor, Section::Red, model, after).await
}

/// Audits and saves an edit of one section, or changes nothing when nothing differs.
async fn edit_section(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    user: &CurrentUser,
    actor: &Actor,
    section: Section,
    before: security_test::Model,
    after: security_test::Model,
) -> AppResult<TestDetail> {
    let id = before.id;
    let (old, new) = (fields(section, &before), fields(section, &after));
    let saved = if audit_edit(&txn, actor, section, id, &old, &new).await? {
        save(&txn, &before, after, Utc::now()).await?
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
    workflow::check(user.role, model.state, Action::EditBlue).map_err(refusal)?;
    check_version(&model, request.version)?;
    let mut errors = FieldErrors::new();
    let mut after = model.clone();
    if let Some(result) = request.detection_result {
        after.detection_result =
            text(result).and_then(|r| choice("detection_result", &r, &mut errors));
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
            *target = optional_text(field, value, &mut errors);
        }
    }
    if let Some(fired) = request.alert_fired {
        after.alert_fired = fired;
    }
    if let Some(seconds) = request.time_to_detect_seconds {
        check_time_to_detect(seconds, &mut errors);
        after.time_to_detect_seconds = seconds;
    }
    let fired = match request.fired_rule_ids {
        Some(ids) => {
            let before = fired_rules::of_test(&txn, id).await?;
            let after = fired_rules::check(&txn, &model.technique_id, ids, &mut errors).await?;
            Some((before, after))
        }
        None => None,
    };
    AppError::invalid("The blue team's fields are not valid", errors)?;
    edit_blue(db, txn, user, actor, model, after, fired).await
}

/// The blue section's edit, with the rules that fired beside its fields (in its audit entry
/// as `fired_rule_ids`, in `test_fired_rules` as rows).
async fn edit_blue(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    user: &CurrentUser,
    actor: &Actor,
    before: security_test::Model,
    after: security_test::Model,
    fired: Option<(Vec<Uuid>, Vec<Uuid>)>,
) -> AppResult<TestDetail> {
    let Some((old_rules, new_rules)) = fired else {
        return edit_section(db, txn, user, actor, Section::Blue, before, after).await;
    };
    let id = before.id;
    let (mut old, mut new) = (
        fields(Section::Blue, &before),
        fields(Section::Blue, &after),
    );
    if let (Some(old), Some(new)) = (old.as_object_mut(), new.as_object_mut()) {
        old.insert("fired_rule_ids".into(), serde_json::json!(old_rules));
        new.insert("fired_rule_ids".into(), serde_json::json!(new_rules));
    }
    let saved = if audit_edit(&txn, actor, Section::Blue, id, &old, &new).await? {
        if old_rules != new_rules {
            fired_rules::replace(&txn, id, &new_rules).await?;
        }
        save(&txn, &before, after, Utc::now()).await?
    } else {
        before
    };
    txn.commit().await?;
    reads::detail(db, user, saved).await
}
