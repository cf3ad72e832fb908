//! Moving a test on: the transitions (start-execution, submit-red, submit-blue, reopen), the
//! dual vote and the execution timer. What each does is `domain::workflow`'s rule; this
//! applies it to the locked row, audits it, recomputes coverage and sends the notices.
use super::checks::refusal;
use super::coverage::recompute_coverage;
use super::events;
use super::notify::{facts, send};
use super::reads;
use super::rows::{check_version, lock, save, set_timer, timer_of};
use super::snapshots::audit_transition;
use crate::domain::audit::{TestEvent, VotePayload};
use crate::domain::notices::{on_outcome, on_transition};
use crate::domain::rbac::Team;
use crate::domain::timer::Timer;
use crate::domain::validation::TEXT_MAX;
use crate::domain::workflow::{self, Action};
use crate::dto::workflow::{TestDetail, VoteRequest};
use crate::error::{AppError, AppResult};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

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
    let from = model.state;
    workflow::check(user.role, from, action).map_err(refusal)?;
    check_version(&model, version)?;
    workflow::ready_for(action, model.detection_result)
        .map_err(|unmet| AppError::field(unmet.field(), unmet.message()))?;
    let now = Utc::now();
    let effects = action.effects();
    let mut after = model.clone();
    after.state = target;
    if effects.restart_timer {
        set_timer(&mut after, Timer::started(now));
    }
    if effects.stop_timer {
        let mut timer = timer_of(&model);
        timer.stop(now);
        set_timer(&mut after, timer);
    }
    if effects.stamp_red_submitted {
        after.red_submitted_at = Some(now);
    }
    if effects.stamp_blue_submitted {
        after.blue_submitted_at = Some(now);
    }
    if effects.clear_votes {
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
    let saved = save(&txn, &model, after, now).await?;
    audit_transition(&txn, actor, id, from, target).await?;
    if let Some(notice) = on_transition(action, facts(&saved)) {
        send(&txn, actor, notice, &saved).await?;
    }
    if effects.recompute_coverage {
        recompute_coverage(&txn, &saved.technique_id).await?;
    }
    events::state_changed(&txn, actor, &saved, from).await?;
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
    if notes.len() > TEXT_MAX {
        return Err(AppError::field("notes", "Notes are too long"));
    }
    let txn = begin_write(db).await?;
    let model = lock(&txn, id).await?;
    let from = model.state;
    let (mut red, mut blue) = (model.red_validation_status, model.blue_validation_status);
    let current = match team {
        Team::Red => red,
        Team::Blue => blue,
    };
    workflow::check_vote(user.role, from, team, current).map_err(refusal)?;
    let now = Utc::now();
    let mut after = model.clone();
    let notes_value = Some(notes.clone()).filter(|n| !n.trim().is_empty());
    match team {
        Team::Red => {
            red = Some(request.status);
            after.red_validation_status = red;
            after.red_validation_notes = notes_value;
            after.red_validated_by = Some(user.id);
            after.red_validated_at = Some(now);
        }
        Team::Blue => {
            blue = Some(request.status);
            after.blue_validation_status = blue;
            after.blue_validation_notes = notes_value;
            after.blue_validated_by = Some(user.id);
            after.blue_validated_at = Some(now);
        }
    }
    let outcome = workflow::review_outcome(red, blue);
    after.state = outcome;
    if workflow::review_completes(outcome) {
        after.completed_at = Some(now);
    }
    let saved = save(&txn, &model, after, now).await?;
    let event = TestEvent::Vote(VotePayload {
        team,
        status: request.status,
        notes,
    });
    audit::record(&txn, actor, AuditRecord::test_event(id, &event)).await?;
    if outcome != from {
        audit_transition(&txn, actor, id, from, outcome).await?;
        recompute_coverage(&txn, &saved.technique_id).await?;
        if let Some(notice) = on_outcome(outcome, facts(&saved)) {
            send(&txn, actor, notice, &saved).await?;
        }
        events::state_changed(&txn, actor, &saved, from).await?;
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
    workflow::check(user.role, model.state, action).map_err(refusal)?;
    let now = Utc::now();
    let mut timer = timer_of(&model);
    let result = if pause {
        timer.pause(now)
    } else {
        timer.resume(now)
    };
    result.map_err(|e| AppError::Conflict(e.message().into()))?;
    let mut after = model.clone();
    set_timer(&mut after, timer);
    let saved = save(&txn, &model, after, now).await?;
    let elapsed_seconds = timer.elapsed_seconds(now);
    let event = if pause {
        TestEvent::TimerPaused { elapsed_seconds }
    } else {
        TestEvent::TimerResumed { elapsed_seconds }
    };
    audit::record(&txn, actor, AuditRecord::test_event(id, &event)).await?;
    txn.commit().await?;
    reads::detail(db, user, saved).await
}
