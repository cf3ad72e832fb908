//! `PATCH /tests/{id}/remediation`: the remediation fields and the ordered list of steps, by
//! leads and admins in every state. New owners and step assignees are told.
use super::checks::{check_user, refusal};
use super::notify::{facts, send};
use super::reads;
use super::rows::{check_version, lock, save, step_row};
use super::snapshots::{audit_edit, remediation_fields, step_value};
use crate::domain::audit::{AuditAction, Section, TEST_ENTITY};
use crate::domain::notices::{on_owner_assigned, on_step_assigned};
use crate::domain::test_input::{check_step_title, choice};
use crate::domain::validation::check_text;
use crate::domain::workflow::{self, Action};
use crate::dto::workflow::{RemediationUpdateRequest, TestDetail};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::remediation_step;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

pub async fn update_remediation(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: RemediationUpdateRequest,
) -> AppResult<TestDetail> {
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    workflow::check(user.role, model.state, Action::EditRemediation).map_err(refusal)?;
    check_version(&model, request.version)?;
    let mut errors = FieldErrors::new();
    let mut after = model.clone();
    if let Some(status) = &request.remediation_status
        && let Some(status) = choice("remediation_status", status, &mut errors)
    {
        after.remediation_status = status;
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
    let mut statuses = Vec::new();
    if let Some(steps) = &request.steps {
        let known: HashSet<Uuid> = existing.iter().map(|s| s.id).collect();
        for (i, step) in steps.iter().enumerate() {
            check_step_title(&format!("steps[{i}].title"), &step.title, &mut errors);
            statuses.push(match &step.status {
                Some(status) => choice(&format!("steps[{i}].status"), status, &mut errors),
                None => Some(Default::default()),
            });
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
        let before_steps: Vec<Value> = existing.iter().map(step_value).collect();
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
        for ((position, step), status) in steps.into_iter().enumerate().zip(statuses) {
            let old = step
                .id
                .and_then(|sid| existing.iter().find(|s| s.id == sid));
            let row = step_row(
                step.id.unwrap_or_else(Uuid::new_v4),
                id,
                position as i32 + 1,
                step.title.trim().to_owned(),
                step.notes.unwrap_or_default(),
                status.unwrap_or_default(),
                step.assignee_id,
                step.due_date,
                old.map(|o| o.created_at).unwrap_or(now),
                now,
            );
            if let Some(assignee) = row.assignee_id
                && old.and_then(|o| o.assignee_id) != Some(assignee)
            {
                newly_assigned.push((assignee, row.title.clone()));
            }
            after_steps.push(step_value(&row));
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
                AuditRecord::new(AuditAction::TestRemediationUpdate, TEST_ENTITY, id)
                    .before(json!({ "steps": before_steps }))
                    .after(json!({ "steps": after_steps, "changed": ["steps"] })),
            )
            .await?;
        }
    }
    let fields_changed = audit_edit(
        &txn,
        actor,
        Section::Remediation,
        id,
        &remediation_fields(&model),
        &remediation_fields(&after),
    )
    .await?;
    let owner_assigned = after
        .remediation_owner
        .filter(|o| model.remediation_owner != Some(*o));
    let saved = if fields_changed || step_changes {
        save(&txn, &model, after, now).await?
    } else {
        model
    };
    if let Some(owner) = owner_assigned {
        send(&txn, actor, on_owner_assigned(owner, facts(&saved)), &saved).await?;
    }
    for (assignee, step) in newly_assigned {
        send(&txn, actor, on_step_assigned(assignee, &step), &saved).await?;
    }
    txn.commit().await?;
    reads::detail(db, user, saved).await
}
