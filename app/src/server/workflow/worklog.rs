//! A test's worklog: time logged by the people working on it (`domain::worklog` says who and
//! what), each change in one transaction with the audit entry the timeline shows.
use crate::domain::audit::{TestEvent, WorklogChange, WorklogPayload};
use crate::domain::worklog;
use crate::dto::workflow::{WorklogEntryDto, WorklogInput, WorklogUpdate};
use crate::error::{AppError, AppResult};
use crate::server::entities::worklog_entry;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use crate::server::workflow::reads::{find, user_names};
use crate::server::workflow::rows::lock;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

fn dto(m: worklog_entry::Model, names: &HashMap<Uuid, String>) -> WorklogEntryDto {
    WorklogEntryDto {
        author_name: names.get(&m.author_id).cloned(),
        id: m.id,
        test_id: m.test_id,
        author_id: m.author_id,
        minutes: i64::from(m.minutes),
        note: m.note,
        started_at: m.started_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn payload(m: &worklog_entry::Model) -> WorklogPayload {
    WorklogPayload {
        entry_id: m.id,
        minutes: i64::from(m.minutes),
        note: m.note.clone(),
        started_at: m.started_at,
    }
}

/// The change's audit entry, on the test's timeline.
async fn record(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    change: WorklogChange,
    entry: &worklog_entry::Model,
) -> AppResult<()> {
    let event = TestEvent::Worklog {
        change,
        entry: payload(entry),
    };
    audit::record(txn, actor, AuditRecord::test_event(entry.test_id, &event)).await?;
    Ok(())
}

fn checked(minutes: i64, note: &str, started_at: Option<chrono::DateTime<Utc>>) -> AppResult<()> {
    let errors = worklog::check(minutes, note, started_at, Utc::now());
    if errors.is_empty() {
        Ok(())
    } else {
        AppError::invalid("Validation failed", errors)
    }
}

/// A test's entries, oldest first (by when the work started, else when it was logged).
pub async fn of_test(
    conn: &impl ConnectionTrait,
    test_id: Uuid,
) -> AppResult<Vec<WorklogEntryDto>> {
    let rows = worklog_entry::Entity::find()
        .filter(worklog_entry::Column::TestId.eq(test_id))
        .order_by_asc(worklog_entry::Column::CreatedAt)
        .order_by_asc(worklog_entry::Column::Id)
        .all(conn)
        .await?;
    let names = user_names(conn, rows.iter().map(|r| r.author_id)).await?;
    let mut list: Vec<WorklogEntryDto> = rows.into_iter().map(|r| dto(r, &names)).collect();
    list.sort_by_key(|e| e.started_at.unwrap_or(e.created_at));
    Ok(list)
}

/// `GET /tests/{id}/worklog`: 404 for an unknown test.
pub async fn list(conn: &impl ConnectionTrait, test_id: Uuid) -> AppResult<Vec<WorklogEntryDto>> {
    find(conn, test_id).await?;
    of_test(conn, test_id).await
}

pub async fn create(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    test_id: Uuid,
    input: WorklogInput,
) -> AppResult<WorklogEntryDto> {
    let note = input.note.trim().to_owned();
    checked(input.minutes, &note, input.started_at)?;
    let txn = begin_write(db).await?;
    let test = lock(&txn, test_id).await?;
    worklog::may_log(user.role, test.state).map_err(|message| {
        if user.role == crate::domain::rbac::Role::Viewer {
            AppError::Forbidden(message)
        } else {
            AppError::Conflict(message)
        }
    })?;
    let count = worklog_entry::Entity::find()
        .filter(worklog_entry::Column::TestId.eq(test_id))
        .count(&txn)
        .await?;
    if count >= worklog::ENTRIES_MAX {
        return Err(AppError::Conflict(format!(
            "A test holds at most {} worklog entries",
            worklog::ENTRIES_MAX
        )));
    }
    let now = Utc::now();
    let model = worklog_entry::ActiveModel {
        id: Set(Uuid::new_v4()),
        test_id: Set(test_id),
        author_id: Set(user.id),
        // Checked above: 1..=MINUTES_MAX.
        minutes: Set(input.minutes as i32),
        note: Set(note),
        started_at: Set(input.started_at),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record(&txn, actor, WorklogChange::Logged, &model).await?;
    let names = user_names(&txn, [model.author_id]).await?;
    txn.commit().await?;
    Ok(dto(model, &names))
}

/// The entry of `test_id` with `entry_id`, with the test locked, once the caller may change it.
async fn changeable(
    txn: &sea_orm::DatabaseTransaction,
    user: &CurrentUser,
    test_id: Uuid,
    entry_id: Uuid,
) -> AppResult<worklog_entry::Model> {
    let test = lock(txn, test_id).await?;
    let entry = worklog_entry::Entity::find_by_id(entry_id)
        .filter(worklog_entry::Column::TestId.eq(test_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Worklog entry {entry_id} not found")))?;
    let is_author = entry.author_id == user.id;
    worklog::may_change(is_author, test.state).map_err(|message| {
        if is_author {
            AppError::Conflict(message)
        } else {
            AppError::Forbidden(message)
        }
    })?;
    Ok(entry)
}

pub async fn update(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    test_id: Uuid,
    entry_id: Uuid,
    input: WorklogUpdate,
) -> AppResult<WorklogEntryDto> {
    let txn = begin_write(db).await?;
    let entry = changeable(&txn, user, test_id, entry_id).await?;
    let minutes = input.minutes.unwrap_or(i64::from(entry.minutes));
    let note = input
        .note
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|| entry.note.clone());
    let started_at = input.started_at.unwrap_or(entry.started_at);
    checked(minutes, &note, started_at)?;
    let mut row: worklog_entry::ActiveModel = entry.into();
    row.minutes = Set(minutes as i32);
    row.note = Set(note);
    row.started_at = Set(started_at);
    row.updated_at = Set(Utc::now());
    let model = row.update(&txn).await?;
    record(&txn, actor, WorklogChange::Edited, &model).await?;
    let names = user_names(&txn, [model.author_id]).await?;
    txn.commit().await?;
    Ok(dto(model, &names))
}

pub async fn delete(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    test_id: Uuid,
    entry_id: Uuid,
) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let entry = changeable(&txn, user, test_id, entry_id).await?;
    worklog_entry::Entity::delete_by_id(entry.id)
        .exec(&txn)
        .await?;
    record(&txn, actor, WorklogChange::Deleted, &entry).await?;
    txn.commit().await?;
    Ok(())
}
