//! The webhook sender: claims due deliveries from the outbox (`app::server::webhooks::outbox`),
//! posts each signed body to its receiver in its own task (at most `concurrency` at once, each
//! bounded by the timeout, so a slow or dead receiver holds only its own delivery), and
//! records every attempt. It looks every second, and at once when an event is queued.
use crate::config::WebhookConfig;
use app::domain::webhooks::RESPONSE_KEPT;
use app::server::webhooks::outbox::{self, Claimed, Outcome};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub async fn send_forever(db: DatabaseConnection, config: WebhookConfig) {
    let client = match reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        // A receiver answers; it does not send us elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Aegis-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "webhook sender could not start");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(config.concurrency));
    // Longer than one attempt can take (connection, answer, the record), so a claim outlives
    // its send; a sender that dies mid-send leaves the delivery to another after the lease.
    let lease = chrono::Duration::from_std(config.timeout * 2 + Duration::from_secs(5))
        .unwrap_or(chrono::Duration::minutes(5));
    let first_backoff =
        chrono::Duration::from_std(config.first_backoff).unwrap_or(chrono::Duration::seconds(30));
    loop {
        let free = slots.available_permits() as u64;
        if free > 0 {
            match outbox::claim_due(&db, free, lease).await {
                Ok(claimed) => {
                    for delivery in claimed {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        let (db, client) = (db.clone(), client.clone());
                        tokio::spawn(async move {
                            let outcome = send(&client, &delivery).await;
                            if let Err(e) =
                                outbox::record(&db, &delivery, outcome, first_backoff).await
                            {
                                tracing::error!(delivery = %delivery.id, error = %e, "webhook attempt not recorded");
                            }
                            drop(permit);
                            outbox::wake();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook deliveries not claimed"),
            }
        }
        tokio::select! {
            _ = outbox::woken() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// One attempt: the signed POST, its status, time, error and the start of the answer.
async fn send(client: &reqwest::Client, delivery: &Claimed) -> Outcome {
    let started = Instant::now();
    let signature = outbox::sign(&delivery.secret, delivery.body.as_bytes());
    let result = client
        .post(&delivery.url)
        .header("Content-Type", "application/json")
        .header("X-Aegis-Event", &delivery.event)
        .header("X-Aegis-Delivery", delivery.id.to_string())
        .header("X-Aegis-Signature", signature)
        .body(delivery.body.clone())
        .send()
        .await;
    let elapsed =
        |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let mut kept = Vec::new();
            let mut error = None;
            while kept.len() < RESPONSE_KEPT {
                match response.chunk().await {
                    Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(format!("reading the answer failed: {e}"));
                        break;
                    }
                }
            }
            kept.truncate(RESPONSE_KEPT);
            Outcome {
                status_code: Some(status),
                duration_ms: elapsed(started),
                error,
                response: Some(String::from_utf8_lossy(&kept).into_owned())
                    .filter(|r| !r.is_empty()),
            }
        }
        Err(e) => Outcome {
            status_code: None,
            duration_ms: elapsed(started),
            error: Some(if e.is_timeout() {
                "The receiver did not answer in time".to_owned()
            } else if e.is_connect() {
                format!("Could not connect: {e}")
            } else {
                e.to_string()
            }),
            response: None,
        },
    }
}
