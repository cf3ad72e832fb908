//! Personal access tokens: created for oneself, shown once, stored hashed, used as a bearer
//! token, limited to a lower role, listed with their last use, revoked at once, audited with
//! their name.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use crate::workflow::Crew;
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(token_lifecycle, token_input_is_checked);

async fn create(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app.post_json("/api/v1/auth/tokens", token, body).await;
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

async fn token_lifecycle(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let (status, created) = create(
        &app,
        &crew.red_lead,
        json!({"name": "nightly CI", "expires_in_days": 30}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("aegis_pat_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(created["name"], "nightly CI");
    assert!(created["role"].is_null());
    assert!(created["last_used_at"].is_null());
    let id = created["id"].as_str().unwrap().to_owned();

    // Only a hash is stored: the secret is nowhere in the database.
    let db = app.database().await;
    let stored = sea_orm::ConnectionTrait::query_all_raw(
        &db,
        sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT secret_hash FROM api_tokens".to_owned(),
        ),
    )
    .await
    .unwrap();
    let hash: String = stored[0].try_get("", "secret_hash").unwrap();
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&secret[10..]));

    // It works as a bearer token, as its user.
    let me = json_body(app.get("/api/v1/auth/me", &secret).await).await;
    assert_eq!(me["username"], "redlead_user", "{me}");
    let test = app
        .post_json(
            "/api/v1/tests",
            &secret,
            json!({"title": "From CI", "technique_id": "T1059"}),
        )
        .await;
    assert_eq!(test.status(), 201);
    let test = json_body(test).await;

    // Listed with its last use, never with the secret.
    let list = json_body(app.get("/api/v1/auth/tokens", &crew.red_lead).await).await;
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{list}");
    assert!(listed[0].get("token").is_none());
    assert!(!listed[0]["last_used_at"].is_null(), "{list}");
    // Another user sees none of it and cannot revoke it.
    let others = json_body(app.get("/api/v1/auth/tokens", &crew.blue_lead).await).await;
    assert_eq!(others, json!([]));
    let response = app
        .delete(&format!("/api/v1/auth/tokens/{id}"), &crew.blue_lead)
        .await;
    assert_eq!(response.status(), 404);

    // Audited as the user, with the token's name.
    let audit = json_body(
        app.get(
            &format!(
                "/api/v1/audit-logs?entity_id={}",
                test["id"].as_str().unwrap()
            ),
            &crew.admin,
        )
        .await,
    )
    .await;
    let entry = &audit["items"][0];
    assert_eq!(entry["actor_username"], "redlead_user", "{audit}");
    assert_eq!(entry["via_token"], "nightly CI", "{audit}");
    let created_entry = json_body(
        app.get("/api/v1/audit-logs?action=api_token.create", &crew.admin)
            .await,
    )
    .await;
    assert_eq!(created_entry["total"], 1, "{created_entry}");
    assert!(!created_entry.to_string().contains(&secret));

    // A lower role: a viewer's token of the red lead may read but not create.
    let (status, viewer) = create(
        &app,
        &crew.red_lead,
        json!({"name": "dashboard", "role": "viewer"}),
    )
    .await;
    assert_eq!(status, 201, "{viewer}");
    let viewer = viewer["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/tests", &viewer).await.status(), 200);
    let refused = app
        .post_json(
            "/api/v1/tests",
            &viewer,
            json!({"title": "No", "technique_id": "T1059"}),
        )
        .await;
    assert_eq!(refused.status(), 403);

    // Revoked: refused at once.
    let response = app
        .delete(&format!("/api/v1/auth/tokens/{id}"), &crew.red_lead)
        .await;
    assert_eq!(response.status(), 204);
    let response = app.get("/api/v1/auth/me", &secret).await;
    assert_eq!(response.status(), 401);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    let list = json_body(app.get("/api/v1/auth/tokens", &crew.red_lead).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Expired: refused.
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "UPDATE api_tokens SET expires_at = created_at",
    )
    .await
    .unwrap();
    let response = app.get("/api/v1/auth/me", &viewer).await;
    assert_eq!(response.status(), 401);

    // A deactivated user's tokens stop working; signing out with a token revokes it.
    let (_, fresh) = create(&app, &crew.blue_tech, json!({"name": "blue bot"})).await;
    let fresh = fresh["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/auth/me", &fresh).await.status(), 200);
    assert_eq!(app.post("/api/v1/auth/logout", &fresh).await.status(), 204);
    assert_eq!(app.get("/api/v1/auth/me", &fresh).await.status(), 401);
    let (_, again) = create(&app, &crew.blue_tech, json!({"name": "blue bot 2"})).await;
    let again = again["token"].as_str().unwrap().to_owned();
    let response = app
        .patch_json(
            &format!("/api/v1/users/{}", crew.blue_tech_id),
            &crew.admin,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.get("/api/v1/auth/me", &again).await.status(), 401);
    // A made-up token is refused like any bad bearer token.
    let response = app.get("/api/v1/auth/me", "aegis_pat_not-a-real-one").await;
    assert_eq!(response.status(), 401);
    app
}

async fn token_input_is_checked(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "ok", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "ok", "expires_in_days": 366}),
            "expires_in_days",
        ),
        (json!({"name": "ok", "role": "admin"}), "role"),
        (json!({"name": "ok", "role": "blue_tech"}), "role"),
    ] {
        let (status, answer) = create(&app, &crew.red_lead, body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["fields"][field].is_string(), "{body}: {answer}");
    }
    let (status, _) = create(&app, &crew.red_lead, json!({"name": "ok", "role": "root"})).await;
    assert_eq!(status, 422);
    let (status, _) = create(&app, &crew.red_lead, json!({"name": "ok", "extra": 1})).await;
    assert_eq!(status, 422);
    // The same role, a lower one of the same team, or none: fine.
    for role in [json!("red_lead"), json!("red_tech"), Value::Null] {
        let (status, answer) =
            create(&app, &crew.red_lead, json!({"name": "ok", "role": role})).await;
        assert_eq!(status, 201, "{answer}");
    }
    let response = app
        .request(
            Method::DELETE,
            "/api/v1/auth/tokens/not-a-uuid",
            Some(&crew.red_lead),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Not signed in: 401.
    let response = app
        .request(Method::GET, "/api/v1/auth/tokens", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app
}

on_both_backends!(service_accounts_sign_in_only_with_tokens_admins_mint);

/// A service account: a user of one of the roles with no password, whose tokens an admin
/// creates, lists and revokes.
async fn service_accounts_sign_in_only_with_tokens_admins_mint(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    // A password beside `service_account` is refused; so is a person without one.
    let response = app
        .post_json(
            "/api/v1/users",
            &crew.admin,
            json!({"username": "ci-bot", "role": "red_lead", "service_account": true, "password": "some-password-1"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["password"].is_string());
    let response = app
        .post_json(
            "/api/v1/users",
            &crew.admin,
            json!({"username": "no-password", "role": "viewer"}),
        )
        .await;
    assert_eq!(response.status(), 422);

    let response = app
        .post_json(
            "/api/v1/users",
            &crew.admin,
            json!({"username": "ci-bot", "role": "red_lead", "service_account": true, "display_name": "Nightly CI"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let bot = json_body(response).await;
    assert_eq!(bot["sign_in"], "service_account");
    let bot_id = bot["id"].as_str().unwrap().to_owned();
    // No password signs it in.
    assert_eq!(app.login_response("ci-bot", "").await.status(), 401);
    assert_eq!(
        app.login_response("ci-bot", "any-password-at-all")
            .await
            .status(),
        401
    );

    // Only admins mint its tokens, and only for service accounts.
    let path = format!("/api/v1/users/{bot_id}/tokens");
    let response = app
        .post_json(&path, &crew.red_lead, json!({"name": "x"}))
        .await;
    assert_eq!(response.status(), 403);
    let person = app.get("/api/v1/users?search=redlead", &crew.admin).await;
    let person = json_body(person).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .post_json(
            &format!("/api/v1/users/{person}/tokens"),
            &crew.admin,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("not a service account")
    );
    // Not above the account's role.
    let response = app
        .post_json(
            &path,
            &crew.admin,
            json!({"name": "too much", "role": "admin"}),
        )
        .await;
    assert_eq!(response.status(), 422);

    let response = app
        .post_json(
            &path,
            &crew.admin,
            json!({"name": "nightly", "expires_in_days": 7}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created = json_body(response).await;
    let secret = created["token"].as_str().unwrap().to_owned();
    let token_id = created["id"].as_str().unwrap().to_owned();

    // It acts as the service account, audited as it with the token's name.
    let me = json_body(app.get("/api/v1/auth/me", &secret).await).await;
    assert_eq!(me["username"], "ci-bot");
    assert_eq!(me["role"], "red_lead");
    let test = app
        .post_json(
            "/api/v1/tests",
            &secret,
            json!({"title": "From the bot", "technique_id": "T1059"}),
        )
        .await;
    assert_eq!(test.status(), 201);
    let test = json_body(test).await;
    let audit = json_body(
        app.get(
            &format!(
                "/api/v1/audit-logs?entity_id={}",
                test["id"].as_str().unwrap()
            ),
            &crew.admin,
        )
        .await,
    )
    .await;
    assert_eq!(audit["items"][0]["actor_username"], "ci-bot");
    assert_eq!(audit["items"][0]["via_token"], "nightly");
    // Its token cannot mint more: that is an admin's to do.
    let (status, body) = create(&app, &secret, json!({"name": "more"})).await;
    assert_eq!(status, 403, "{body}");
    // The minting is audited as the admin who did it.
    let minted = json_body(
        app.get("/api/v1/audit-logs?action=api_token.create", &crew.admin)
            .await,
    )
    .await;
    assert_eq!(minted["items"][0]["actor_username"], "admin");

    // Listed for the admin (with its last use), not among the admin's own.
    let listed = json_body(app.get(&path, &crew.admin).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed[0]["last_used_at"].is_null());
    assert!(listed[0].get("token").is_none());
    let own = json_body(app.get("/api/v1/auth/tokens", &crew.admin).await).await;
    assert_eq!(own, json!([]));

    // Revoked by the admin: refused at once.
    let response = app.delete(&format!("{path}/{token_id}"), &crew.admin).await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.get("/api/v1/auth/me", &secret).await.status(), 401);
    let response = app.delete(&format!("{path}/{token_id}"), &crew.admin).await;
    assert_eq!(response.status(), 404);
    app
}
