//! The one audit writer, and the audit log's queries.
use crate::domain::audit::{AuditAction, TEST_ENTITY, TestEvent};
use crate::domain::cache;
use crate::dto::DEFAULT_PAGE_SIZE;
use crate::dto::Page;
use crate::dto::admin::audit::{AuditEntryDto, AuditQuery};
use crate::error::{AppError, AppResult};
use crate::server::entities::audit_log;
use crate::server::platform::context::Actor;
use crate::server::platform::pagination::page_bounds;
use crate::server::platform::read_cache;
use crate::server::reporting::activity::ActivityTally;
use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

/// One audited change. `before`/`after` must never hold secrets: callers pass DTOs, which
/// carry no password hashes or tokens.
pub struct AuditRecord {
    pub action: AuditAction,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditRecord {
    pub fn new(action: AuditAction, entity_type: &'static str, entity_id: impl ToString) -> Self {
        Self {
            action,
            entity_type,
            entity_id: Some(entity_id.to_string()),
            before: None,
            after: None,
        }
    }

    /// A test event, in the one shape `TestEvent` defines.
    pub fn test_event(test_id: uuid::Uuid, event: &TestEvent) -> Self {
        let entry = event.entry();
        Self {
            action: entry.action,
            entity_type: TEST_ENTITY,
            entity_id: Some(test_id.to_string()),
            before: entry.before,
            after: entry.after,
        }
    }

    pub fn before(mut self, value: impl serde::Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: impl serde::Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

pub async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    record: AuditRecord,
) -> AppResult<()> {
    let now = Utc::now();
    let mut activity = ActivityTally::default();
    activity.add(
        now,
        actor.id,
        actor.username.as_deref(),
        record.action.as_str(),
        record.after.as_ref(),
    );
    let action = record.action;
    let row = audit_log::ActiveModel {
        id: Set(Uuid::new_v4()),
        occurred_at: Set(now),
        actor_id: Set(actor.id),
        actor_username: Set(actor.username.clone()),
        action: Set(record.action.as_str().to_owned()),
        entity_type: Set(record.entity_type.to_owned()),
        entity_id: Set(record.entity_id),
        before_value: Set(record.before),
        after_value: Set(record.after),
        client_ip: Set(actor.client_ip.clone()),
        request_id: Set(actor.request_id.clone()),
        via_token: Set(actor.via_token.clone()),
    };
    audit_log::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    if !activity.is_empty() {
        activity.save(conn).await?;
    }
    read_cache::bump(conn, cache::changed_by(action)).await
}

fn to_dto(m: audit_log::Model) -> AuditEntryDto {
    AuditEntryDto {
        id: m.id,
        occurred_at: m.occurred_at,
        actor_id: m.actor_id,
        actor_username: m.actor_username,
        action: m.action,
        entity_type: m.entity_type,
        entity_id: m.entity_id,
        before: m.before_value,
        after: m.after_value,
        client_ip: m.client_ip,
        request_id: m.request_id,
        via_token: m.via_token,
    }
}

/// Parses an RFC 3339 timestamp or a `YYYY-MM-DD` day. For an upper bound a day means the
/// end of that day, which is what a person picking "to: 2026-11-22" expects.
pub fn parse_date_bound(field: &str, raw: &str, upper: bool) -> AppResult<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(ts) = DateTime::parse_from_rfc3339(raw) {
        return Ok(ts.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        AppError::field(
            field,
            format!("'{raw}' is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"),
        )
    })?;
    let day = if upper {
        day.checked_add_days(Days::new(1)).unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub async fn list(
    conn: &impl ConnectionTrait,
    query: &AuditQuery,
) -> AppResult<Page<AuditEntryDto>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let mut condition = Condition::all();
    if let Some(action) = non_empty(&query.action) {
        condition = condition.add(audit_log::Column::Action.eq(action));
    }
    if let Some(entity_type) = non_empty(&query.entity_type) {
        condition = condition.add(audit_log::Column::EntityType.eq(entity_type));
    }
    if let Some(entity_id) = non_empty(&query.entity_id) {
        condition = condition.add(audit_log::Column::EntityId.eq(entity_id));
    }
    if let Some(actor) = non_empty(&query.actor) {
        condition = condition.add(match Uuid::parse_str(actor) {
            Ok(id) => audit_log::Column::ActorId.eq(id),
            Err(_) => audit_log::Column::ActorUsername.eq(actor.to_lowercase()),
        });
    }
    let from = non_empty(&query.date_from)
        .map(|d| parse_date_bound("date_from", d, false))
        .transpose()?;
    let to = non_empty(&query.date_to)
        .map(|d| parse_date_bound("date_to", d, true))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(AppError::BadRequest(
            "date_from must be before date_to".into(),
        ));
    }
    if let Some(from) = from {
        condition = condition.add(audit_log::Column::OccurredAt.gte(from));
    }
    if let Some(to) = to {
        condition = condition.add(audit_log::Column::OccurredAt.lt(to));
    }

    let select = audit_log::Entity::find().filter(condition);
    let total = select.clone().count(conn).await?;
    let items = select
        .order_by_desc(audit_log::Column::OccurredAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?
        .into_iter()
        .map(to_dto)
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

async fn distinct(
    conn: &impl ConnectionTrait,
    column: audit_log::Column,
) -> AppResult<Vec<String>> {
    let values: Vec<String> = audit_log::Entity::find()
        .select_only()
        .column(column)
        .distinct()
        .order_by_asc(column)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(values)
}

pub async fn actions(conn: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    distinct(conn, audit_log::Column::Action).await
}

pub async fn entity_types(conn: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    distinct(conn, audit_log::Column::EntityType).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds() {
        let from = parse_date_bound("date_from", "2026-11-22", false).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-11-22T00:00:00+00:00");
        let to = parse_date_bound("date_to", "2026-11-22", true).unwrap();
        assert_eq!(to.to_rfc3339(), "2026-11-23T00:00:00+00:00");
        let ts = parse_date_bound("date_to", "2026-11-22T10:00:00+02:00", true).unwrap();
        assert_eq!(ts.to_rfc3339(), "2026-11-22T08:00:00+00:00");
        let err = parse_date_bound("date_from", "yesterday", false).unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.fields()["date_from"].contains("yesterday"));
    }

    #[test]
    fn page_limits() {
        assert_eq!(
            page_bounds(None, None, DEFAULT_PAGE_SIZE).unwrap(),
            (DEFAULT_PAGE_SIZE, 0)
        );
        assert_eq!(page_bounds(None, Some(5), 20).unwrap(), (20, 5));
        assert!(page_bounds(Some(0), None, 20).is_err());
        assert!(page_bounds(Some(crate::dto::MAX_PAGE_SIZE + 1), None, 20).is_err());
    }
}
