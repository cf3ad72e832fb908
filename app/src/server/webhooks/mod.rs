//! Webhooks: admins register endpoints (`mod.rs`), events are written to the outbox in their
//! own transaction (`outbox::emit`), and the server's sender (`server/src/jobs/webhooks.rs`)
//! claims due deliveries, signs and posts them and records each attempt (`outbox::claim_due`,
//! `outbox::record`).
pub mod outbox;

use crate::domain::audit::AuditAction;
use crate::domain::rbac::Permission;
use crate::domain::validation::check_text;
use crate::domain::webhooks::{self, DeliveryStatus, WebhookEvent};
use crate::dto::Page;
use crate::dto::webhooks::{
    AttemptDto, CreateWebhookRequest, DeliveryDto, DeliveryQuery, UpdateWebhookRequest, WebhookDto,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{webhook, webhook_attempt, webhook_delivery};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use crate::server::platform::pagination::page_bounds;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

const ENTITY: &str = "webhook";
const DESCRIPTION_MAX: usize = 500;

/// Webhooks are the admins'.
pub fn check_manage(user: &CurrentUser) -> AppResult<()> {
    if user.role.can(Permission::ManageSystem) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only administrators manage webhooks".into(),
        ))
    }
}

fn parse_events(values: &[String], errors: &mut FieldErrors) -> Vec<WebhookEvent> {
    let mut events = Vec::new();
    if values.is_empty() {
        errors.insert("events".into(), "Subscribe to at least one event".into());
    }
    for value in values {
        match WebhookEvent::from_str(value.trim()) {
            Ok(event) if WebhookEvent::SUBSCRIBABLE.contains(&event) => {
                if !events.contains(&event) {
                    events.push(event);
                }
            }
            _ => {
                errors.insert(
                    "events".into(),
                    format!(
                        "Unknown event '{value}'; expected any of: {}",
                        WebhookEvent::SUBSCRIBABLE
                            .map(WebhookEvent::as_str)
                            .join(", ")
                    ),
                );
            }
        }
    }
    events
}

fn events_of(model: &webhook::Model) -> Vec<WebhookEvent> {
    model
        .events
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|e| WebhookEvent::from_str(e).ok())
        .collect()
}

fn check_fields(
    url: Option<&str>,
    secret: Option<&str>,
    description: Option<&str>,
    errors: &mut FieldErrors,
) {
    if let Some(url) = url
        && let Err(e) = webhooks::check_url(url)
    {
        errors.insert("url".into(), e);
    }
    if let Some(secret) = secret
        && let Err(e) = webhooks::check_secret(secret)
    {
        errors.insert("secret".into(), e);
    }
    if let Some(description) = description {
        if description.chars().count() > DESCRIPTION_MAX {
            errors.insert(
                "description".into(),
                format!("At most {DESCRIPTION_MAX} characters"),
            );
        }
        check_text("description", description, errors);
    }
}

/// What the audit log keeps of a webhook: never its secret.
fn snapshot(m: &webhook::Model) -> Value {
    json!({
        "url": m.url,
        "description": m.description,
        "events": m.events,
        "is_active": m.is_active,
    })
}

async fn dtos(
    conn: &impl ConnectionTrait,
    models: Vec<webhook::Model>,
) -> AppResult<Vec<WebhookDto>> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let counts: Vec<(Uuid, DeliveryStatus, i64)> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::WebhookId)
        .column(webhook_delivery::Column::Status)
        .column_as(webhook_delivery::Column::Id.count(), "n")
        .filter(webhook_delivery::Column::WebhookId.is_in(ids))
        .filter(webhook_delivery::Column::Status.ne(DeliveryStatus::Delivered))
        .group_by(webhook_delivery::Column::WebhookId)
        .group_by(webhook_delivery::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let mut by: HashMap<(Uuid, DeliveryStatus), u64> = HashMap::new();
    for (id, status, n) in counts {
        by.insert((id, status), u64::try_from(n).unwrap_or(0));
    }
    Ok(models
        .into_iter()
        .map(|m| WebhookDto {
            events: events_of(&m),
            pending: by
                .get(&(m.id, DeliveryStatus::Pending))
                .copied()
                .unwrap_or(0),
            failed: by
                .get(&(m.id, DeliveryStatus::Failed))
                .copied()
                .unwrap_or(0),
            id: m.id,
            url: m.url,
            description: m.description,
            is_active: m.is_active,
            has_secret: true,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<webhook::Model> {
    webhook::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Webhook {id} not found")))
}

pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<WebhookDto>> {
    let models = webhook::Entity::find()
        .order_by_asc(webhook::Column::CreatedAt)
        .all(conn)
        .await?;
    dtos(conn, models).await
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<WebhookDto> {
    let model = find(conn, id).await?;
    dtos(conn, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("webhook missing"))
}

pub async fn create(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    request: CreateWebhookRequest,
) -> AppResult<WebhookDto> {
    check_manage(user)?;
    let mut errors = FieldErrors::new();
    check_fields(
        Some(&request.url),
        Some(&request.secret),
        request.description.as_deref(),
        &mut errors,
    );
    let events = parse_events(&request.events, &mut errors);
    AppError::invalid("The webhook is not valid", errors)?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let model = webhook::Model {
        id: Uuid::new_v4(),
        url: request.url.trim().to_owned(),
        secret: request.secret,
        description: request.description.unwrap_or_default().trim().to_owned(),
        events: json!(events),
        is_active: request.is_active.unwrap_or(true),
        created_by: user.id,
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .reset_all()
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::WebhookCreate, ENTITY, model.id).after(snapshot(&model)),
    )
    .await?;
    txn.commit().await?;
    get(db, model.id).await
}

pub async fn update(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: UpdateWebhookRequest,
) -> AppResult<WebhookDto> {
    check_manage(user)?;
    let mut errors = FieldErrors::new();
    check_fields(
        request.url.as_deref(),
        request.secret.as_deref(),
        request.description.as_deref(),
        &mut errors,
    );
    let events = request
        .events
        .as_ref()
        .map(|events| parse_events(events, &mut errors));
    AppError::invalid("The webhook is not valid", errors)?;
    let txn = begin_write(db).await?;
    let before = find(&txn, id).await?;
    let mut after = before.clone();
    if let Some(url) = request.url {
        after.url = url.trim().to_owned();
    }
    if let Some(description) = request.description {
        after.description = description.trim().to_owned();
    }
    if let Some(events) = events {
        after.events = json!(events);
    }
    if let Some(active) = request.is_active {
        after.is_active = active;
    }
    let secret_changed = request.secret.as_ref().is_some_and(|s| *s != before.secret);
    if let Some(secret) = request.secret {
        after.secret = secret;
    }
    if snapshot(&before) != snapshot(&after) || secret_changed {
        after.updated_at = Utc::now();
        let saved = after.into_active_model().reset_all().update(&txn).await?;
        let mut change = snapshot(&saved);
        if let Some(map) = change.as_object_mut() {
            map.insert("secret_changed".into(), json!(secret_changed));
        }
        audit::record(
            &txn,
            actor,
            AuditRecord::new(AuditAction::WebhookUpdate, ENTITY, id)
                .before(snapshot(&before))
                .after(change),
        )
        .await?;
    }
    txn.commit().await?;
    get(db, id).await
}

/// Deletes the webhook and its delivery log.
pub async fn delete(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
) -> AppResult<()> {
    check_manage(user)?;
    let txn = begin_write(db).await?;
    let model = find(&txn, id).await?;
    webhook::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::WebhookDelete, ENTITY, id).before(snapshot(&model)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// `POST /webhooks/{id}/test`: a `ping` delivery to this webhook (active or not), sent like
/// any other; its id is returned so the caller can follow it in the log.
pub async fn ping(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
) -> AppResult<DeliveryDto> {
    check_manage(user)?;
    let txn = begin_write(db).await?;
    let model = find(&txn, id).await?;
    let delivery = outbox::queue(
        &txn,
        &model,
        WebhookEvent::Ping,
        &json!({ "webhook_id": model.id, "message": "A test ping from Aegis" }),
    )
    .await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::WebhookPing, ENTITY, id)
            .after(json!({ "delivery_id": delivery.id })),
    )
    .await?;
    txn.commit().await?;
    outbox::wake();
    delivery_dto(db, delivery).await
}

async fn delivery_dto(
    conn: &impl ConnectionTrait,
    d: webhook_delivery::Model,
) -> AppResult<DeliveryDto> {
    let mut all = delivery_dtos(conn, vec![d]).await?;
    all.pop()
        .ok_or_else(|| AppError::internal("delivery missing"))
}

async fn delivery_dtos(
    conn: &impl ConnectionTrait,
    deliveries: Vec<webhook_delivery::Model>,
) -> AppResult<Vec<DeliveryDto>> {
    let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
    let mut attempts: HashMap<Uuid, Vec<AttemptDto>> = HashMap::new();
    for a in webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(webhook_attempt::Column::Attempt)
        .all(conn)
        .await?
    {
        attempts.entry(a.delivery_id).or_default().push(AttemptDto {
            attempt: a.attempt,
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error,
            response: a.response,
        });
    }
    Ok(deliveries
        .into_iter()
        .map(|d| DeliveryDto {
            attempt_log: attempts.remove(&d.id).unwrap_or_default(),
            body: serde_json::from_str(&d.body).unwrap_or(Value::Null),
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            id: d.id,
            webhook_id: d.webhook_id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            finished_at: d.finished_at,
        })
        .collect())
}

/// `GET /webhooks/{id}/deliveries`: newest first, with every attempt.
pub async fn deliveries(
    conn: &impl ConnectionTrait,
    id: Uuid,
    query: &DeliveryQuery,
) -> AppResult<Page<DeliveryDto>> {
    find(conn, id).await?;
    let (limit, offset) = page_bounds(query.limit, query.offset, 20)?;
    let mut select =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(id));
    if let Some(status) = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let status = DeliveryStatus::from_str(status)
            .map_err(|e| AppError::field("status", e.to_string()))?;
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    let total = select.clone().count(conn).await?;
    let rows = select
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?;
    Ok(Page {
        items: delivery_dtos(conn, rows).await?,
        total,
        limit,
        offset,
    })
}
