use crate::common::{ADMIN_PASSWORD, SECRET, TestApp, json_body};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    login_accepts_json_and_form,
    wrong_credentials_are_one_generic_401,
    login_is_rate_limited,
    logout_revokes_the_token_across_restarts,
    bad_tokens_are_rejected,
    password_change_and_deactivation_end_sessions,
);

async fn login_accepts_json_and_form(app: TestApp) -> TestApp {
    let response = app.login_response("admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("aegis_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();

    // The spec's curl example: a form post, with a username in any case.
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .form(&[("username", "ADMIN"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(json_body(response).await["access_token"].is_string());

    let me = json_body(app.get("/api/v1/auth/me", token).await).await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none());

    // The cookie alone authenticates too (the browser's way).
    let session = cookie.split(';').next().unwrap();
    let response = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let response = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(json_body(response).await["detail"], "Not authenticated");

    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body("username=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    app
}

async fn wrong_credentials_are_one_generic_401(app: TestApp) -> TestApp {
    let wrong_password = app.login_response("admin", "not-the-password").await;
    assert_eq!(wrong_password.status(), 401);
    let wrong_password = json_body(wrong_password).await;
    let unknown_user = json_body(app.login_response("nobody", "not-the-password").await).await;
    assert_eq!(wrong_password, unknown_user);
    assert_eq!(wrong_password["detail"], "Invalid username or password");

    let token = app.admin_token().await;
    let failures = json_body(
        app.get("/api/v1/audit-logs?action=auth.login_failed", &token)
            .await,
    )
    .await;
    assert_eq!(failures["total"], 2);
    let text = failures.to_string();
    assert!(
        !text.contains("not-the-password"),
        "passwords must never reach the audit log"
    );
    app
}

async fn login_is_rate_limited(app: TestApp) -> TestApp {
    for _ in 0..5 {
        assert_eq!(
            app.login_response("admin", "wrong-password-x")
                .await
                .status(),
            401
        );
    }
    let response = app.login_response("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        response.status(),
        429,
        "even the right password waits once the limit is hit"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("Too many attempts")
    );
    // The limit is per username: another account from the same client is unaffected.
    assert_eq!(
        app.login_response("someone-else", "wrong-password-x")
            .await
            .status(),
        401
    );
    app
}

async fn logout_revokes_the_token_across_restarts(mut app: TestApp) -> TestApp {
    let token = app.admin_token().await;
    let response = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), 401);

    app.restart().await;
    assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), 401);
    let fresh = app.admin_token().await;
    assert_eq!(
        app.get("/api/v1/auth/me", &fresh).await.status(),
        200,
        "sessions survive a restart"
    );
    app
}

fn forge(secret: &str, algorithm: jsonwebtoken::Algorithm, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(algorithm),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn bad_tokens_are_rejected(app: TestApp) -> TestApp {
    let token = app.admin_token().await;
    let me = json_body(app.get("/api/v1/auth/me", &token).await).await;
    let sub = me["id"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();

    let expired = forge(
        SECRET,
        jsonwebtoken::Algorithm::HS256,
        json!({ "sub": sub, "iat": now - 7200, "exp": now - 3600, "jti": "a" }),
    );
    let response = app.get("/api/v1/auth/me", &expired).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert!(json_body(response).await["detail"].is_string());

    let wrong_key = forge(
        "another-secret-another-secret-another",
        jsonwebtoken::Algorithm::HS256,
        json!({ "sub": sub, "iat": now, "exp": now + 600, "jti": "b" }),
    );
    assert_eq!(app.get("/api/v1/auth/me", &wrong_key).await.status(), 401);

    let other_alg = forge(
        SECRET,
        jsonwebtoken::Algorithm::HS512,
        json!({ "sub": sub, "iat": now, "exp": now + 600, "jti": "c" }),
    );
    assert_eq!(app.get("/api/v1/auth/me", &other_alg).await.status(), 401);

    // Flip one character of the signature.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(app.get("/api/v1/auth/me", &tampered).await.status(), 401);

    let unsigned = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&json!({ "sub": sub, "iat": now, "exp": now + 600, "jti": "d" }).to_string())
    );
    assert_eq!(app.get("/api/v1/auth/me", &unsigned).await.status(), 401);
    assert_eq!(app.get("/api/v1/auth/me", "garbage").await.status(), 401);
    app
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

async fn password_change_and_deactivation_end_sessions(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let id = app
        .create_user(&admin, "carol", "blue_tech", "carol-password-1")
        .await;
    let carol = app.login("carol", "carol-password-1").await;
    assert_eq!(app.get("/api/v1/auth/me", &carol).await.status(), 200);

    // Tokens carry whole seconds; make the reset land in a later second than the login.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "password": "carol-password-2" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.get("/api/v1/auth/me", &carol).await.status(),
        401,
        "a reset password ends old sessions"
    );
    assert_eq!(
        app.login_response("carol", "carol-password-1")
            .await
            .status(),
        401
    );
    let carol = app.login("carol", "carol-password-2").await;

    let response = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app.get("/api/v1/auth/me", &carol).await;
    assert_eq!(
        response.status(),
        401,
        "a deactivated user's token stops at once"
    );
    assert_eq!(
        json_body(response).await["detail"],
        "Account is deactivated"
    );
    assert_eq!(
        app.login_response("carol", "carol-password-2")
            .await
            .status(),
        401
    );
    app
}
