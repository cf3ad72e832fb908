//! In-app notifications: who hears about an ATT&CK update, each user's own list and read
//! state, and the cleanup job that keeps unread ones whatever their age.
use crate::common::{TestApp, json_body, wait_for_run};
use crate::on_both_backends;
use app::server::entities::notification;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

on_both_backends!(
    leads_and_admins_hear_about_changed_techniques,
    the_cleanup_job_deletes_only_old_read_notifications,
);

const FIXTURE: &str = include_str!("../fixtures/attack-mini.json");

async fn import(app: &TestApp, token: &str, bundle: &Value) {
    let response = app
        .import_bundle(token, "bundle.json", serde_json::to_vec(bundle).unwrap())
        .await;
    assert_eq!(response.status(), 200);
}

/// The fixture, then a release that renames T1059 and deprecates T1595.
async fn import_a_changing_release(app: &TestApp, admin: &str) {
    let mut bundle: Value = serde_json::from_str(FIXTURE).unwrap();
    import(app, admin, &bundle).await;
    for object in bundle["objects"].as_array_mut().unwrap() {
        match object["id"].as_str().unwrap() {
            "attack-pattern--t1059" => object["name"] = json!("Command Interpreters"),
            "attack-pattern--t1595" => object["x_mitre_deprecated"] = json!(true),
            _ => {}
        }
    }
    import(app, admin, &bundle).await;
}

async fn unread(app: &TestApp, token: &str) -> u64 {
    let response = app.get("/api/v1/notifications/unread-count", token).await;
    assert_eq!(response.status(), 200);
    json_body(response).await["unread"].as_u64().unwrap()
}

async fn leads_and_admins_hear_about_changed_techniques(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    for (name, role) in [
        ("bea", "blue_lead"),
        ("lea", "red_lead"),
        ("rob", "red_tech"),
        ("vic", "viewer"),
    ] {
        app.create_user(&admin, name, role, &format!("{name}-password-123"))
            .await;
    }
    let token = |name: &'static str| {
        let app = &app;
        async move { app.login(name, &format!("{name}-password-123")).await }
    };
    let (bea, lea, rob, vic) = (
        token("bea").await,
        token("lea").await,
        token("rob").await,
        token("vic").await,
    );

    // A first import adds techniques: nothing to review, nobody notified.
    import(&app, &admin, &serde_json::from_str(FIXTURE).unwrap()).await;
    assert_eq!(unread(&app, &admin).await, 0);

    import_a_changing_release(&app, &admin).await;
    for reviewer in [&admin, &bea, &lea] {
        assert_eq!(unread(&app, reviewer).await, 1);
        let page = json_body(app.get("/api/v1/notifications", reviewer).await).await;
        assert_eq!(page["total"], 1);
        assert_eq!(page["limit"], 20, "the spec's default page size");
        let note = &page["items"][0];
        assert_eq!(note["kind"], "attack_update");
        assert_eq!(note["title"], "ATT&CK update: 2 techniques to review");
        let body = note["body"].as_str().unwrap();
        assert!(body.contains("T1059 Command Interpreters: name"), "{body}");
        assert!(body.contains("T1595"), "{body}");
        assert_eq!(note["link"], "/matrix?review_required=true");
        assert_eq!(note["is_read"], false);
    }
    for bystander in [&rob, &vic] {
        assert_eq!(unread(&app, bystander).await, 0);
        let page = json_body(app.get("/api/v1/notifications", bystander).await).await;
        assert_eq!(page["items"], json!([]));
    }

    // Each user reads their own; someone else's does not exist for them.
    let admins = json_body(app.get("/api/v1/notifications", &admin).await).await;
    let admins_id = admins["items"][0]["id"].as_str().unwrap().to_owned();
    let beas = json_body(app.get("/api/v1/notifications", &bea).await).await;
    let beas_id = beas["items"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .patch_json(
            &format!("/api/v1/notifications/{admins_id}/read"),
            &bea,
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        json_body(response).await["detail"],
        "Notification not found"
    );
    let response = app
        .patch_json(
            &format!("/api/v1/notifications/{beas_id}/read"),
            &bea,
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let read = json_body(response).await;
    assert_eq!(read["is_read"], true);
    assert!(read["read_at"].is_string());
    assert_eq!(unread(&app, &bea).await, 0);
    assert_eq!(
        unread(&app, &admin).await,
        1,
        "admin's copy is still unread"
    );
    let unread_only = json_body(
        app.get("/api/v1/notifications?unread_only=true", &bea)
            .await,
    )
    .await;
    assert_eq!(unread_only["total"], 0);
    let all = json_body(app.get("/api/v1/notifications", &bea).await).await;
    assert_eq!(all["total"], 1, "read ones stay listed");

    let response = app.post("/api/v1/notifications/read-all", &lea).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(response).await["marked_read"], 1);
    assert_eq!(unread(&app, &lea).await, 0);

    // Bad input.
    let response = app.get("/api/v1/notifications?limit=0", &bea).await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["limit"].is_string());
    assert_eq!(
        app.get("/api/v1/notifications?limit=many", &bea)
            .await
            .status(),
        400
    );
    assert_eq!(
        app.patch_json("/api/v1/notifications/not-a-uuid/read", &bea, json!({}))
            .await
            .status(),
        404
    );
    let anonymous = app
        .request(reqwest::Method::GET, "/api/v1/notifications", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app
}

async fn the_cleanup_job_deletes_only_old_read_notifications(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let bea_id = app
        .create_user(&admin, "bea", "blue_lead", "bea-password-123")
        .await;
    let bea = app.login("bea", "bea-password-123").await;
    import_a_changing_release(&app, &admin).await;
    let response = app.post("/api/v1/notifications/read-all", &bea).await;
    assert_eq!(response.status(), 200);

    // Both copies become 100 days old: Bea's is read, the admin's is not.
    let db = app.database().await;
    let long_ago = chrono::Utc::now() - chrono::Duration::days(100);
    notification::Entity::update_many()
        .col_expr(notification::Column::CreatedAt, Expr::value(long_ago))
        .exec(&db)
        .await
        .unwrap();
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(long_ago))
        .filter(notification::Column::UserId.eq(uuid::Uuid::parse_str(&bea_id).unwrap()))
        .exec(&db)
        .await
        .unwrap();
    db.close().await.unwrap();

    let response = app
        .post("/api/v1/system/jobs/notification_cleanup/run", &admin)
        .await;
    assert_eq!(response.status(), 202);
    let id = json_body(response).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = wait_for_run(&app, &admin, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["deleted"], 1);
    let beas = json_body(app.get("/api/v1/notifications", &bea).await).await;
    assert_eq!(beas["total"], 0);
    assert_eq!(unread(&app, &admin).await, 1, "unread ones are kept");
    app
}
