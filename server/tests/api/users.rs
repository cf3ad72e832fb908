use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    admin_manages_users,
    bad_user_input_is_refused_clearly,
    only_admins_manage_users,
    the_last_active_admin_stays,
);

async fn admin_manages_users(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "Alice.Red", "password": "alice-password-1", "role": "red_tech", "display_name": "Alice", "email": "alice@example.com" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let alice = json_body(response).await;
    assert_eq!(
        alice["username"], "alice.red",
        "usernames are case-insensitive and stored lower-case"
    );
    assert_eq!(alice["role"], "red_tech");
    assert_eq!(alice["is_active"], true);
    assert!(alice.get("password").is_none() && alice.get("password_hash").is_none());
    let id = alice["id"].as_str().unwrap();

    app.create_user(&admin, "bob", "blue_lead", "bob-password-12")
        .await;
    let page = json_body(app.get("/api/v1/users", &admin).await).await;
    assert_eq!(page["total"], 3);
    let page = json_body(app.get("/api/v1/users?search=ALICE", &admin).await).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["username"], "alice.red");
    let page = json_body(app.get("/api/v1/users?role=blue_lead", &admin).await).await;
    assert_eq!(page["items"][0]["username"], "bob");
    let page = json_body(app.get("/api/v1/users?limit=1&offset=1", &admin).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["total"], 3);

    let fetched = json_body(app.get(&format!("/api/v1/users/{id}"), &admin).await).await;
    assert_eq!(fetched["email"], "alice@example.com");

    let response = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "role": "red_lead", "display_name": "Alice R.", "email": "" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated = json_body(response).await;
    assert_eq!(updated["role"], "red_lead");
    assert_eq!(updated["display_name"], "Alice R.");
    assert!(updated["email"].is_null(), "an empty email clears it");

    let alice_token = app.login("alice.red", "alice-password-1").await;
    let me = json_body(app.get("/api/v1/auth/me", &alice_token).await).await;
    assert_eq!(me["role"], "red_lead");
    app
}

async fn bad_user_input_is_refused_clearly(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "dave", "password": "dave-password-1", "role": "superuser" }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body = json_body(response).await;
    assert!(
        body["fields"]["role"]
            .as_str()
            .unwrap()
            .contains("Unknown role 'superuser'"),
        "{body}"
    );

    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "x", "password": "short", "role": "viewer", "email": "nope" }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let fields = json_body(response).await["fields"].clone();
    assert!(
        fields["username"].is_string()
            && fields["password"].is_string()
            && fields["email"].is_string(),
        "{fields}"
    );

    app.create_user(&admin, "dave", "viewer", "dave-password-1")
        .await;
    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "DAVE", "password": "dave-password-1", "role": "viewer" }),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("already")
    );

    let send = |body: &'static str, content_type: &'static str| {
        app.request(Method::POST, "/api/v1/users", Some(&admin))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = send("{not json", "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        json_body(response).await["detail"],
        "Request body is not valid JSON"
    );
    let response = send(r#"{"username": 5}"#, "application/json")
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["detail"].is_string());
    let response = send("username=x", "text/plain").await.unwrap();
    assert_eq!(response.status(), 415);

    let huge = "x".repeat(200_000);
    let response = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({ "username": "eve", "password": huge, "role": "viewer" }),
        )
        .await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        json_body(response).await["detail"],
        "Request body is too large"
    );

    let response = app.get("/api/v1/users/not-a-uuid", &admin).await;
    assert_eq!(response.status(), 404);
    let response = app
        .get(&format!("/api/v1/users/{}", uuid::Uuid::new_v4()), &admin)
        .await;
    assert_eq!(response.status(), 404);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    let response = app
        .patch_json(
            &format!("/api/v1/users/{}", uuid::Uuid::new_v4()),
            &admin,
            json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(response.status(), 404);
    let response = app.get("/api/v1/users?limit=100000", &admin).await;
    assert_eq!(response.status(), 422);
    let response = app.get("/api/v1/users?limit=abc", &admin).await;
    assert_eq!(response.status(), 400);
    let response = app
        .request(Method::DELETE, "/api/v1/users", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(json_body(response).await["detail"].is_string());

    // Nothing of the refused requests was stored.
    let page = json_body(app.get("/api/v1/users", &admin).await).await;
    assert_eq!(page["total"], 2);
    app
}

async fn only_admins_manage_users(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    for role in ["red_tech", "blue_tech", "red_lead", "blue_lead", "viewer"] {
        let name = format!("user-{}", role.replace('_', "-"));
        let id = app
            .create_user(&admin, &name, role, "some-password-1")
            .await;
        let token = app.login(&name, "some-password-1").await;
        assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), 200);
        let response = app.get("/api/v1/users", &token).await;
        assert_eq!(response.status(), 403, "{role} listing users");
        assert_eq!(
            json_body(response).await["detail"],
            "You do not have permission to do this"
        );
        assert_eq!(
            app.get(&format!("/api/v1/users/{id}"), &token)
                .await
                .status(),
            403
        );
        let response = app
            .patch_json(
                &format!("/api/v1/users/{id}"),
                &token,
                json!({ "role": "admin" }),
            )
            .await;
        assert_eq!(response.status(), 403, "{role} promoting themselves");
        let response = app
            .post_json(
                "/api/v1/users",
                &token,
                json!({ "username": "mallory", "password": "mallory-pass-1", "role": "admin" }),
            )
            .await;
        assert_eq!(response.status(), 403);
        assert_eq!(app.get("/api/v1/audit-logs", &token).await.status(), 403);
    }
    let response = app
        .client
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app
}

async fn the_last_active_admin_stays(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let me = json_body(app.get("/api/v1/auth/me", &admin).await).await;
    let admin_id = me["id"].as_str().unwrap().to_owned();

    let response = app
        .patch_json(
            &format!("/api/v1/users/{admin_id}"),
            &admin,
            json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("last active admin")
    );
    let response = app
        .patch_json(
            &format!("/api/v1/users/{admin_id}"),
            &admin,
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(response.status(), 409);
    let still = json_body(app.get(&format!("/api/v1/users/{admin_id}"), &admin).await).await;
    assert_eq!(still["role"], "admin");
    assert_eq!(still["is_active"], true);

    // With a second active admin, the first may step down.
    let second = app
        .create_user(&admin, "second-admin", "admin", "second-password-1")
        .await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{admin_id}"),
            &admin,
            json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let second_token = app.login("second-admin", "second-password-1").await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{second}"),
            &second_token,
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(response.status(), 409);
    app
}
