//! A test's worklog through the API: who may log time and change an entry, the bounds of an
//! entry, the order and total, the timeline's lines, the test-results report's minutes, and
//! the worklog closing with the test.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(the_worklog_records_who_worked_how_long);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");
const PASSWORD: &str = "a-long-password-1";

async fn log(app: &TestApp, token: &str, test: &str, body: Value) -> (u16, Value) {
    let response = app
        .post_json(&format!("/api/v1/tests/{test}/worklog"), token, body)
        .await;
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

async fn the_worklog_records_who_worked_how_long(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(&admin, "attack.json", BUNDLE.as_bytes().to_vec())
            .await
            .status(),
        200
    );
    for (user, role) in [
        ("red1", "red_tech"),
        ("blue1", "blue_tech"),
        ("view1", "viewer"),
    ] {
        app.create_user(&admin, user, role, PASSWORD).await;
    }
    let red = app.login("red1", PASSWORD).await;
    let blue = app.login("blue1", PASSWORD).await;
    let viewer = app.login("view1", PASSWORD).await;
    let response = app
        .post_json(
            "/api/v1/tests",
            &admin,
            json!({"title": "Scripted discovery", "technique_id": "T1059"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let test = json_body(response).await["id"].as_str().unwrap().to_owned();

    let (status, first) = log(
        &app,
        &red,
        &test,
        json!({"minutes": 45, "note": "  Prepared the payload  ", "started_at": "2026-11-30T10:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["note"], "Prepared the payload");
    assert_eq!(first["author_name"], "red1");
    let (status, second) = log(&app, &blue, &test, json!({"minutes": 30})).await;
    assert_eq!(status, 201, "{second}");

    // Viewers do not log work; bad entries say which field is wrong.
    let (status, body) = log(&app, &viewer, &test, json!({"minutes": 5})).await;
    assert_eq!(status, 403, "{body}");
    for (body, field) in [
        (json!({"minutes": 0}), "minutes"),
        (json!({"minutes": 1441}), "minutes"),
        (json!({"minutes": 5, "note": "x".repeat(2001)}), "note"),
        (
            json!({"minutes": 5, "started_at": "2999-01-01T00:00:00Z"}),
            "started_at",
        ),
    ] {
        let (status, answer) = log(&app, &red, &test, body).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let (status, answer) = log(&app, &red, &test, json!({"minutes": 5, "hours": 1})).await;
    assert!(status == 400 || status == 422, "{status} {answer}");
    assert!(answer["detail"].is_string());
    let (status, _) = log(
        &app,
        &red,
        "00000000-0000-4000-8000-000000000000",
        json!({"minutes": 5}),
    )
    .await;
    assert_eq!(status, 404);

    // Oldest first by when the work started; the test's detail has the total.
    let list = json_body(
        app.get(&format!("/api/v1/tests/{test}/worklog"), &viewer)
            .await,
    )
    .await;
    let minutes: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["minutes"].as_i64().unwrap())
        .collect();
    assert_eq!(minutes, [45, 30]);
    let detail = json_body(app.get(&format!("/api/v1/tests/{test}"), &viewer).await).await;
    assert_eq!(detail["worklog_minutes"], 75);
    assert_eq!(detail["worklog"].as_array().unwrap().len(), 2);

    // Only the author changes an entry.
    let red_entry = format!(
        "/api/v1/tests/{test}/worklog/{}",
        first["id"].as_str().unwrap()
    );
    let blue_entry = format!(
        "/api/v1/tests/{test}/worklog/{}",
        second["id"].as_str().unwrap()
    );
    let refused = app
        .patch_json(&red_entry, &blue, json!({"minutes": 1}))
        .await;
    assert_eq!(refused.status(), 403);
    let edited = app
        .patch_json(&red_entry, &red, json!({"minutes": 50, "started_at": null}))
        .await;
    assert_eq!(edited.status(), 200);
    let edited = json_body(edited).await;
    assert_eq!(edited["minutes"], 50);
    assert_eq!(edited["started_at"], Value::Null);
    assert_eq!(
        edited["note"], "Prepared the payload",
        "untouched fields stay"
    );
    let bad = app
        .patch_json(&red_entry, &red, json!({"minutes": -1}))
        .await;
    assert_eq!(bad.status(), 422);
    assert_eq!(app.delete(&blue_entry, &red).await.status(), 403);
    assert_eq!(app.delete(&blue_entry, &blue).await.status(), 204);
    assert_eq!(app.delete(&blue_entry, &blue).await.status(), 404);

    // The timeline says who logged what.
    let timeline = json_body(
        app.get(&format!("/api/v1/tests/{test}/timeline"), &viewer)
            .await,
    )
    .await;
    let lines: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"Logged 45 min: Prepared the payload"),
        "{lines:?}"
    );
    assert!(lines.contains(&"Logged 30 min"), "{lines:?}");
    assert!(
        lines.contains(&"Corrected a worklog entry to 50 min: Prepared the payload"),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Deleted a worklog entry of 30 min"),
        "{lines:?}"
    );

    // The test-results report sums it.
    let report = json_body(app.get("/api/v1/reports/test-results", &viewer).await).await;
    let row = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == test.as_str())
        .unwrap();
    assert_eq!(row["worklog_minutes"], 50);

    // A validated test's worklog is closed.
    for action in ["start-execution", "submit-red"] {
        let response = app
            .post(&format!("/api/v1/tests/{test}/{action}"), &admin)
            .await;
        assert_eq!(response.status(), 200, "{action}");
    }
    let response = app
        .patch_json(
            &format!("/api/v1/tests/{test}/blue"),
            &admin,
            json!({"detection_result": "detected"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post(&format!("/api/v1/tests/{test}/submit-blue"), &admin)
        .await;
    assert_eq!(response.status(), 200);
    for side in ["red", "blue"] {
        let response = app
            .post_json(
                &format!("/api/v1/tests/{test}/validate-{side}"),
                &admin,
                json!({ format!("{side}_validation_status"): "approved" }),
            )
            .await;
        assert_eq!(response.status(), 200, "{side}");
    }
    let (status, closed) = log(&app, &red, &test, json!({"minutes": 5})).await;
    assert_eq!(status, 409, "{closed}");
    assert!(closed["detail"].as_str().unwrap().contains("closed"));
    assert_eq!(
        app.patch_json(&red_entry, &red, json!({"minutes": 5}))
            .await
            .status(),
        409
    );
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=worklog.create", &admin)
            .await,
    )
    .await;
    assert_eq!(audit["total"], 2);
    app
}
