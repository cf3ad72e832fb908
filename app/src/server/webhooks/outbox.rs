//! The webhook outbox. An event is written as one delivery per subscribed webhook in the
//! transaction that made it happen, so a delivery exists exactly when its event committed. The
//! sender claims due deliveries with a lease (two server processes never send one twice at
//! once), posts them, and records each attempt here: delivered on a 2xx, else tried again
//! after `domain::webhooks::backoff`, and failed once the attempts are spent.
use crate::domain::webhooks::{self, DeliveryStatus, WebhookEvent};
use crate::error::AppResult;
use crate::server::entities::{webhook, webhook_attempt, webhook_delivery};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::LazyLock;
use tokio::sync::Notify;
use uuid::Uuid;

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tells the sender there may be something to send (it also looks every second).
pub fn wake() {
    WAKE.notify_one();
}

/// Waits for [`wake`] (the sender's side).
pub async fn woken() {
    WAKE.notified().await;
}

/// Queues `event` with `object` for every active webhook subscribed to it, in the caller's
/// transaction.
pub async fn emit(
    txn: &impl ConnectionTrait,
    event: WebhookEvent,
    object: &impl Serialize,
) -> AppResult<usize> {
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::IsActive.eq(true))
        .all(txn)
        .await?;
    let mut queued = 0;
    for hook in hooks.iter().filter(|h| {
        h.events
            .as_array()
            .is_some_and(|events| events.iter().any(|e| e.as_str() == Some(event.as_str())))
    }) {
        queue(txn, hook, event, object).await?;
        queued += 1;
    }
    if queued > 0 {
        wake();
    }
    Ok(queued)
}

/// One delivery of `event` to `hook`: the body is `{"event", "id", "time", "data"}`, `id` the
/// delivery's id (also in the `X-Aegis-Delivery` header).
pub async fn queue(
    txn: &impl ConnectionTrait,
    hook: &webhook::Model,
    event: WebhookEvent,
    object: &impl Serialize,
) -> AppResult<webhook_delivery::Model> {
    let id = Uuid::new_v4();
    let now = Utc::now();
    let body = json!({
        "event": event.as_str(),
        "id": id,
        "time": now,
        "data": object,
    });
    Ok(webhook_delivery::Model {
        id,
        webhook_id: hook.id,
        event: event.as_str().to_owned(),
        body: body.to_string(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        locked_until: None,
        last_status_code: None,
        last_error: None,
        created_at: now,
        finished_at: None,
    }
    .into_active_model()
    .reset_all()
    .insert(txn)
    .await?)
}

/// `sha256=<hex>`: the HMAC-SHA256 of the body with the webhook's secret, as the
/// `X-Aegis-Signature` header carries it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this cannot fail.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery claimed for sending, with where it goes.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub event: String,
    pub body: String,
    pub attempt: i32,
    pub url: String,
    pub secret: String,
}

/// Claims up to `limit` due deliveries for `lease` (longer than one attempt can take).
/// Deliveries of a webhook deactivated since are given up rather than sent.
pub async fn claim_due(
    db: &DatabaseConnection,
    limit: u64,
    lease: Duration,
) -> AppResult<Vec<Claimed>> {
    let now = Utc::now();
    let free = Condition::any()
        .add(webhook_delivery::Column::LockedUntil.is_null())
        .add(webhook_delivery::Column::LockedUntil.lt(now));
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .filter(free.clone())
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::new();
    for d in due {
        let won = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LockedUntil,
                Expr::value(Some(now + lease)),
            )
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(free.clone())
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if !won {
            continue;
        }
        let Some(hook) = webhook::Entity::find_by_id(d.webhook_id).one(db).await? else {
            continue;
        };
        if !hook.is_active && d.event != WebhookEvent::Ping.as_str() {
            give_up(db, d.id, "The webhook was deactivated before this was sent").await?;
            continue;
        }
        claimed.push(Claimed {
            id: d.id,
            event: d.event,
            body: d.body,
            attempt: d.attempts + 1,
            url: hook.url,
            secret: hook.secret,
        });
    }
    Ok(claimed)
}

async fn give_up(db: &DatabaseConnection, id: Uuid, why: &str) -> AppResult<()> {
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(DeliveryStatus::Failed),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(Some(why)))
        .col_expr(
            webhook_delivery::Column::FinishedAt,
            Expr::value(Some(Utc::now())),
        )
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response: Option<String>,
}

/// Records an attempt and moves the delivery on: delivered, retried later, or failed.
pub async fn record(
    db: &DatabaseConnection,
    claimed: &Claimed,
    outcome: Outcome,
    first_backoff: Duration,
) -> AppResult<()> {
    let now = Utc::now();
    let success = outcome.status_code.is_some_and(webhooks::is_success);
    let error = match (&outcome.error, outcome.status_code) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(code)) if !success => Some(format!("The receiver answered {code}")),
        _ => None,
    };
    let txn = crate::server::platform::db::begin_write(db).await?;
    webhook_attempt::Model {
        id: Uuid::new_v4(),
        delivery_id: claimed.id,
        attempt: claimed.attempt,
        attempted_at: now - Duration::milliseconds(outcome.duration_ms),
        status_code: outcome.status_code.map(i32::from),
        duration_ms: outcome.duration_ms,
        error: error.clone(),
        response: outcome
            .response
            .map(|r| r.chars().take(webhooks::RESPONSE_KEPT).collect()),
    }
    .into_active_model()
    .reset_all()
    .insert(&txn)
    .await?;
    let (status, next, finished) = if success {
        (DeliveryStatus::Delivered, now, Some(now))
    } else {
        match webhooks::backoff(claimed.attempt, first_backoff) {
            Some(wait) => (DeliveryStatus::Pending, now + wait, None),
            None => (DeliveryStatus::Failed, now, Some(now)),
        }
    };
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::value(claimed.attempt),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(outcome.status_code.map(i32::from)),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
        .col_expr(webhook_delivery::Column::FinishedAt, Expr::value(finished))
        .filter(webhook_delivery::Column::Id.eq(claimed.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The webhook payload of a test.
pub fn test_object(
    test: &crate::server::entities::security_test::Model,
    previous: Option<&str>,
) -> Value {
    json!({
        "id": test.id,
        "title": test.title,
        "technique_id": test.technique_id,
        "state": test.state,
        "previous_state": previous,
        "platform": test.platform,
        "severity": test.severity,
        "detection_result": test.detection_result,
        "campaign_id": test.campaign_id,
        "version": test.version,
        "updated_at": test.updated_at,
        "link": format!("/tests/{}", test.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
