use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(mutations_are_audited_and_filterable);

async fn mutations_are_audited_and_filterable(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let id = app
        .create_user(&admin, "frank", "viewer", "frank-password-1")
        .await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "role": "blue_tech", "password": "frank-password-2" }),
        )
        .await;
    assert_eq!(response.status(), 200);

    let page = json_body(app.get("/api/v1/audit-logs?entity_type=user", &admin).await).await;
    let entries = page["items"].as_array().unwrap();
    let find = |action: &str, entity: &str| -> Value {
        entries
            .iter()
            .find(|e| e["action"] == action && e["entity_id"] == entity)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} entry for {entity} in {page}"))
    };
    let created = find("user.create", &id);
    assert_eq!(created["actor_username"], "admin");
    assert_eq!(created["after"]["username"], "frank");
    assert_eq!(created["after"]["role"], "viewer");
    assert_eq!(created["client_ip"], "127.0.0.1");
    assert!(created["request_id"].is_string());
    assert!(created["occurred_at"].is_string());
    let updated = find("user.update", &id);
    assert_eq!(updated["before"]["role"], "viewer");
    assert_eq!(updated["after"]["role"], "blue_tech");
    assert_eq!(updated["after"]["password_reset"], true);
    let everything = page.to_string();
    assert!(
        !everything.contains("frank-password") && !everything.contains("argon2"),
        "no secrets in the audit log"
    );

    // The bootstrap admin was audited too, by the system.
    let page = json_body(
        app.get("/api/v1/audit-logs?action=user.create&actor=system", &admin)
            .await,
    )
    .await;
    assert_eq!(page["total"], 1);

    let actions: Vec<String> = serde_json::from_value(
        json_body(app.get("/api/v1/audit-logs/actions", &admin).await).await,
    )
    .unwrap();
    for expected in ["auth.login", "user.create", "user.update"] {
        assert!(actions.contains(&expected.to_owned()), "{actions:?}");
    }
    let types: Vec<String> = serde_json::from_value(
        json_body(app.get("/api/v1/audit-logs/entity-types", &admin).await).await,
    )
    .unwrap();
    assert!(
        types.contains(&"user".to_owned()) && types.contains(&"session".to_owned()),
        "{types:?}"
    );

    let page = json_body(
        app.get("/api/v1/audit-logs?actor=admin&action=user.update", &admin)
            .await,
    )
    .await;
    assert_eq!(page["total"], 1);
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let page = json_body(
        app.get(
            &format!("/api/v1/audit-logs?date_from={today}&date_to={today}"),
            &admin,
        )
        .await,
    )
    .await;
    assert!(page["total"].as_u64().unwrap() >= 4);
    let page = json_body(
        app.get(&format!("/api/v1/audit-logs?date_from={tomorrow}"), &admin)
            .await,
    )
    .await;
    assert_eq!(page["total"], 0);
    let page = json_body(app.get("/api/v1/audit-logs?limit=2&offset=1", &admin).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 1);

    // Newest first.
    let page = json_body(app.get("/api/v1/audit-logs", &admin).await).await;
    let times: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);

    let response = app
        .get("/api/v1/audit-logs?date_from=yesterday", &admin)
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["date_from"].is_string());
    app
}
