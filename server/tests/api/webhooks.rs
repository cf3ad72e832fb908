//! Webhooks through the API against a receiver this test runs: admins only, every validation
//! error, secrets never shown; a validated test reaches the subscribed receivers with the
//! event, delivery id and an HMAC-SHA256 signature that verifies; a failing receiver is
//! retried with backoff until it answers, a hanging one times out without holding the others,
//! and every attempt is in the delivery log; the ping; edit and delete.
use crate::common::{TestApp, json_body};
use crate::for_each_backend;
use crate::workflow::{Crew, act, create_test, patch, vote};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

for_each_backend!(
    webhooks_deliver_signed_events_and_retry,
    the_outbox_survives_a_restart_and_a_dead_sender
);

const SECRET: &str = "a-webhook-secret-of-some-length";

#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) event: String,
    pub(crate) delivery: String,
    signature: String,
    body: Bytes,
}

/// What the receiver this test runs was sent.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) received: Arc<Mutex<Vec<Received>>>,
    flaky_calls: Arc<Mutex<u32>>,
    /// `/gate` answers 503 until this is set.
    open: Arc<std::sync::atomic::AtomicBool>,
}

fn record(receiver: &Receiver, path: &str, headers: &HeaderMap, body: Bytes) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.received.lock().unwrap().push(Received {
        path: path.to_owned(),
        event: header("x-aegis-event"),
        delivery: header("x-aegis-delivery"),
        signature: header("x-aegis-signature"),
        body,
    });
}

pub(crate) async fn receive() -> (String, Receiver) {
    let receiver = Receiver::default();
    let router = Router::new()
        .route(
            "/ok",
            post(
                |State(r): State<Receiver>, headers: HeaderMap, body: Bytes| async move {
                    record(&r, "/ok", &headers, body);
                    (StatusCode::OK, "thanks")
                },
            ),
        )
        .route(
            "/flaky",
            post(
                |State(r): State<Receiver>, headers: HeaderMap, body: Bytes| async move {
                    record(&r, "/flaky", &headers, body);
                    let mut calls = r.flaky_calls.lock().unwrap();
                    *calls += 1;
                    if *calls <= 2 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                },
            ),
        )
        .route(
            "/gate",
            post(
                |State(r): State<Receiver>, headers: HeaderMap, body: Bytes| async move {
                    record(&r, "/gate", &headers, body);
                    if r.open.load(std::sync::atomic::Ordering::SeqCst) {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                },
            ),
        )
        .route(
            "/slow",
            post(
                |State(r): State<Receiver>, headers: HeaderMap, body: Bytes| async move {
                    record(&r, "/slow", &headers, body);
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    StatusCode::OK
                },
            ),
        )
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), receiver)
}

fn signed(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub(crate) async fn create(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app.post_json("/api/v1/webhooks", token, body).await;
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

/// Waits until `done` holds for the webhook's deliveries, and returns them.
async fn deliveries_until(
    app: &TestApp,
    token: &str,
    hook: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = json_body(
            app.get(
                &format!("/api/v1/webhooks/{hook}/deliveries?limit=50"),
                token,
            )
            .await,
        )
        .await;
        if done(&page) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never settled: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn webhooks_deliver_signed_events_and_retry(backend: crate::common::Backend) {
    let app = TestApp::start_with(
        backend,
        &[
            ("AEGIS_WEBHOOK_TIMEOUT_SECS", "1".to_owned()),
            ("AEGIS_WEBHOOK_BACKOFF_MS", "100".to_owned()),
        ],
    )
    .await;
    let crew = Crew::hire(&app).await;
    let (base, receiver) = receive().await;

    // Admins only; every mistake names its field; the secret never comes back.
    let (status, _) = create(
        &app,
        &crew.red_lead,
        json!({"url": format!("{base}/ok"), "secret": SECRET, "events": ["test.validated"]}),
    )
    .await;
    assert_eq!(status, 403);
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "secret": SECRET, "events": ["test.validated"]}),
            "url",
        ),
        (
            json!({"url": "javascript:alert(1)", "secret": SECRET, "events": ["test.validated"]}),
            "url",
        ),
        (
            json!({"url": format!("{base}/ok"), "secret": "short", "events": ["test.validated"]}),
            "secret",
        ),
        (
            json!({"url": format!("{base}/ok"), "secret": SECRET, "events": []}),
            "events",
        ),
        (
            json!({"url": format!("{base}/ok"), "secret": SECRET, "events": ["test.exploded"]}),
            "events",
        ),
        (
            json!({"url": format!("{base}/ok"), "secret": SECRET, "events": ["ping"]}),
            "events",
        ),
        (
            json!({"url": format!("{base}/ok"), "secret": SECRET, "events": ["test.validated"], "description": "d".repeat(501)}),
            "description",
        ),
    ] {
        let (status, answer) = create(&app, &crew.admin, body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let (status, ok) = create(
        &app,
        &crew.admin,
        json!({"url": format!("{base}/ok"), "secret": SECRET, "events": ["test.validated", "test.state_changed"], "description": "SOAR"}),
    )
    .await;
    assert_eq!(status, 201, "{ok}");
    assert!(ok.get("secret").is_none(), "{ok}");
    assert_eq!(ok["has_secret"], true);
    let ok_id = ok["id"].as_str().unwrap().to_owned();
    let (_, flaky) = create(
        &app,
        &crew.admin,
        json!({"url": format!("{base}/flaky"), "secret": SECRET, "events": ["test.validated"]}),
    )
    .await;
    let flaky_id = flaky["id"].as_str().unwrap().to_owned();
    let (_, slow) = create(&app, &crew.admin, json!({"url": format!("{base}/slow"), "secret": SECRET, "events": ["test.validated", "test.state_changed"]})).await;
    let slow_id = slow["id"].as_str().unwrap().to_owned();
    let (_, off) = create(&app, &crew.admin, json!({"url": format!("{base}/ok"), "secret": SECRET, "events": ["test.validated"], "is_active": false})).await;
    let off_id = off["id"].as_str().unwrap().to_owned();
    let list = json_body(app.get("/api/v1/webhooks", &crew.admin).await).await;
    assert_eq!(list.as_array().unwrap().len(), 4);
    assert!(!list.to_string().contains(SECRET));
    assert_eq!(
        app.get("/api/v1/webhooks", &crew.viewer).await.status(),
        403
    );

    // A test goes through its lifecycle; the API is not held up by the hanging receiver.
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Hooked", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    act(&app, &crew.red_tech, &id, "start-execution", 200).await;
    act(&app, &crew.red_tech, &id, "submit-red", 200).await;
    patch(
        &app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": "detected"}),
        200,
    )
    .await;
    act(&app, &crew.blue_tech, &id, "submit-blue", 200).await;
    vote(&app, &crew.red_lead, &id, "red", "approved", 200).await;
    vote(&app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    assert!(started.elapsed() < Duration::from_secs(20));

    // The receiver got the validated event, signed with the secret.
    let validated = deliveries_until(&app, &crew.admin, &ok_id, |page| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] == "delivered")
            .count()
            == 5
    })
    .await;
    let events: Vec<&str> = validated["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == "test.state_changed")
            .count(),
        4,
        "{events:?}"
    );
    assert_eq!(events.iter().filter(|e| **e == "test.validated").count(), 1);
    let got: Vec<Received> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/ok")
        .cloned()
        .collect();
    let hit = got
        .iter()
        .find(|r| r.event == "test.validated")
        .expect("validated event received");
    assert_eq!(hit.signature, signed(SECRET, &hit.body));
    assert_ne!(hit.signature, signed("another-secret-entirely", &hit.body));
    let body: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(body["event"], "test.validated");
    assert_eq!(body["id"], hit.delivery.as_str());
    assert!(body["time"].is_string());
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["state"], "validated");
    assert_eq!(body["data"]["previous_state"], "in_review");
    let entry = &validated["items"][0];
    assert_eq!(entry["attempt_log"][0]["status_code"], 200);
    assert_eq!(entry["attempt_log"][0]["response"], "thanks");

    // The failing receiver is retried until it answers; each attempt is logged.
    let flaky_log = deliveries_until(&app, &crew.admin, &flaky_id, |page| {
        page["items"][0]["status"] == "delivered"
    })
    .await;
    let attempts: Vec<Value> = flaky_log["items"][0]["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(
        attempts,
        [json!(500), json!(500), json!(204)],
        "{flaky_log}"
    );
    assert_eq!(flaky_log["items"][0]["attempts"], 3);
    assert!(
        flaky_log["items"][0]["attempt_log"][0]["error"]
            .as_str()
            .unwrap()
            .contains("500")
    );

    // The hanging one times out (and is retried later); the inactive one got nothing.
    let slow_log = deliveries_until(&app, &crew.admin, &slow_id, |page| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["attempts"].as_i64().unwrap_or(0) >= 1)
    })
    .await;
    let timed_out = slow_log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["attempts"].as_i64().unwrap() >= 1)
        .unwrap();
    assert!(
        timed_out["attempt_log"][0]["status_code"].is_null(),
        "{timed_out}"
    );
    assert!(
        timed_out["attempt_log"][0]["error"]
            .as_str()
            .unwrap()
            .contains("in time"),
        "{timed_out}"
    );
    let off_log = json_body(
        app.get(
            &format!("/api/v1/webhooks/{off_id}/deliveries"),
            &crew.admin,
        )
        .await,
    )
    .await;
    assert_eq!(off_log["total"], 0);

    // A ping reaches even an inactive webhook; edit and delete.
    let ping = app
        .post(&format!("/api/v1/webhooks/{off_id}/test"), &crew.admin)
        .await;
    assert_eq!(ping.status(), 202);
    let ping = json_body(ping).await;
    assert_eq!(ping["event"], "ping");
    deliveries_until(&app, &crew.admin, &off_id, |page| {
        page["items"][0]["status"] == "delivered"
    })
    .await;
    let edited = patch(&app, &crew.admin, &format!("/api/v1/webhooks/{off_id}"), json!({"is_active": true, "events": ["campaign.completed"], "secret": "a-brand-new-secret-value"}), 200).await;
    assert_eq!(edited["events"], json!(["campaign.completed"]));
    patch(
        &app,
        &crew.admin,
        &format!("/api/v1/webhooks/{off_id}"),
        json!({"url": "gopher://x"}),
        422,
    )
    .await;
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=webhook.update", &crew.admin)
            .await,
    )
    .await;
    assert_eq!(audit["total"], 1);
    assert!(!audit.to_string().contains("a-brand-new-secret-value"));
    assert_eq!(
        app.delete(&format!("/api/v1/webhooks/{off_id}"), &crew.admin)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get(&format!("/api/v1/webhooks/{off_id}"), &crew.admin)
            .await
            .status(),
        404
    );
    let bad = app
        .get(
            &format!("/api/v1/webhooks/{ok_id}/deliveries?status=lost"),
            &crew.admin,
        )
        .await;
    assert_eq!(bad.status(), 422);
    app.finish().await;
}

/// A delivery committed but not yet delivered when the server stops is sent by the next
/// process; one claimed by a sender that died mid-send is sent once its lease has passed.
async fn the_outbox_survives_a_restart_and_a_dead_sender(backend: crate::common::Backend) {
    let mut app = TestApp::start_with(
        backend,
        &[
            ("AEGIS_WEBHOOK_TIMEOUT_SECS", "1".to_owned()),
            ("AEGIS_WEBHOOK_BACKOFF_MS", "100".to_owned()),
        ],
    )
    .await;
    let crew = Crew::hire(&app).await;
    let (base, receiver) = receive().await;
    let (status, hook) = create(
        &app,
        &crew.admin,
        json!({"url": format!("{base}/gate"), "secret": SECRET, "events": ["test.state_changed"]}),
    )
    .await;
    assert_eq!(status, 201);
    let hook = hook["id"].as_str().unwrap().to_owned();
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Gated", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    act(&app, &crew.red_tech, &id, "start-execution", 200).await;
    // The receiver refuses; the delivery waits for its next attempt when the server stops.
    deliveries_until(&app, &crew.admin, &hook, |page| {
        page["items"][0]["attempts"].as_i64().unwrap_or(0) >= 1
    })
    .await;
    app.restart().await;
    let admin = app.admin_token().await;
    receiver
        .open
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let page = deliveries_until(&app, &admin, &hook, |page| {
        page["items"][0]["status"] == "delivered"
    })
    .await;
    assert_eq!(page["total"], 1, "one event, one delivery: {page}");
    let log = page["items"][0]["attempt_log"].as_array().unwrap();
    assert_eq!(log.last().unwrap()["status_code"], 200);
    assert!(
        log.iter().rev().skip(1).all(|a| a["status_code"] == 503),
        "{page}"
    );

    // A sender that claimed a delivery and died mid-send: nobody sends it until its lease has
    // passed, then the live sender does, once.
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    let db = app.database().await;
    let lease_end = chrono::Utc::now() + chrono::Duration::seconds(3);
    let orphan = app::server::entities::webhook_delivery::Model {
        id: uuid::Uuid::new_v4(),
        webhook_id: uuid::Uuid::parse_str(&hook).unwrap(),
        event: "test.state_changed".into(),
        body: json!({"event": "test.state_changed", "data": {"id": id}}).to_string(),
        status: app::domain::webhooks::DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: chrono::Utc::now(),
        locked_until: Some(lease_end),
        last_status_code: None,
        last_error: None,
        created_at: chrono::Utc::now(),
        finished_at: None,
    }
    .into_active_model()
    .reset_all()
    .insert(&db)
    .await
    .unwrap();
    let page = deliveries_until(&app, &admin, &hook, |page| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == orphan.id.to_string() && d["status"] == "delivered")
    })
    .await;
    let delivered = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == orphan.id.to_string())
        .unwrap();
    assert_eq!(delivered["attempts"], 1, "sent once: {delivered}");
    let sent: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(delivered["attempt_log"][0]["attempted_at"].clone()).unwrap();
    assert!(
        sent >= lease_end - chrono::Duration::milliseconds(100),
        "sent at {sent}, lease until {lease_end}"
    );
    app.finish().await;
}
