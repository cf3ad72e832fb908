use crate::common::{ADMIN_PASSWORD, TestApp, json_body};
use crate::on_both_backends;
use reqwest::Method;

on_both_backends!(
    health_and_security_headers,
    cookie_mutations_refuse_other_origins,
    pages_need_a_session_and_the_right_role,
    forms_work_without_javascript,
    responses_are_compressed_when_asked,
);

/// GET `path` with `Accept-Encoding`; the status, `Content-Encoding` and the raw body.
async fn encoded(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut request = app.client.get(app.url(path)).bearer_auth(token);
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let encoding = response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    // A body cut off by a server error fails here.
    let body = response.bytes().await.unwrap().to_vec();
    (status, encoding, body)
}

async fn responses_are_compressed_when_asked(app: TestApp) -> TestApp {
    let crew = crate::workflow::Crew::hire(&app).await;
    for n in 0..3 {
        crate::workflow::create_test(
            &app,
            &crew.red_lead,
            serde_json::json!({"title": format!("Compressed {n}"), "technique_id": "T1059"}),
        )
        .await;
    }
    // A streamed download is compressed to its end (gzip's magic bytes first).
    let (status, encoding, body) = encoded(
        &app,
        "/api/v1/reports/test-results?format=csv",
        &crew.viewer,
        Some("gzip"),
    )
    .await;
    assert_eq!((status, encoding.as_str()), (200, "gzip"));
    assert_eq!(&body[..2], &[0x1f, 0x8b]);
    // JSON above 1 KB, in the encoding asked for; nothing when none is accepted.
    let (status, encoding, _) = encoded(&app, "/api/v1/techniques", &crew.viewer, Some("br")).await;
    assert_eq!((status, encoding.as_str()), (200, "br"));
    let (_, encoding, plain) = encoded(&app, "/api/v1/techniques", &crew.viewer, None).await;
    assert_eq!(encoding, "");
    assert!(serde_json::from_slice::<serde_json::Value>(&plain).is_ok());
    // A tiny answer is not worth compressing.
    let (status, encoding, _) = encoded(&app, "/health", &crew.viewer, Some("gzip, br")).await;
    assert_eq!((status, encoding.as_str()), (200, ""));
    app
}

async fn health_and_security_headers(app: TestApp) -> TestApp {
    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-request-id"], "trace-me-42");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("referrer-policy"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'nonce-")
            && !csp.contains("script-src 'self' 'unsafe-inline'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        json_body(response).await,
        serde_json::json!({ "status": "ok" })
    );

    let response = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(json_body(response).await["detail"], "No such API endpoint");
    app
}

async fn cookie_mutations_refuse_other_origins(app: TestApp) -> TestApp {
    let response = app.login_response("admin", ADMIN_PASSWORD).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let response = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({ "username": "csrf", "password": "csrf-password-1", "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        json_body(response).await["detail"],
        "Cross-site request refused"
    );

    let response = app
        .client
        .post(app.url("/api/fn/create_user"))
        .header("cookie", &cookie)
        .header("referer", "https://evil.example/page")
        .form(&[
            ("username", "csrf"),
            ("display_name", "x"),
            ("email", ""),
            ("role", "admin"),
            ("password", "csrf-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let response = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", &cookie)
        .header("origin", app.origin())
        .json(&serde_json::json!({ "username": "same-site", "password": "same-password-1", "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "same-origin cookie requests work");

    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "the old cookie no longer works");
    app
}

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path)).header("accept", "text/html");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn session_cookie(app: &TestApp, username: &str, password: &str) -> String {
    let response = app.login_response(username, password).await;
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn pages_need_a_session_and_the_right_role(app: TestApp) -> TestApp {
    let response = page(&app, "/admin/users?search=a", None).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fadmin%2Fusers%3Fsearch%3Da"
    );

    let response = page(&app, "/login", None).await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Sign in"));
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration scripts carry the CSP nonce"
    );

    let admin_cookie = session_cookie(&app, "admin", ADMIN_PASSWORD).await;
    let response = page(&app, "/login", Some(&admin_cookie)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/");

    let response = page(&app, "/admin/users", Some(&admin_cookie)).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("users-table") && html.contains("Administrator"));
    assert!(html.contains("nav-admin"));
    let response = page(&app, "/admin/audit", Some(&admin_cookie)).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("audit-table"));

    let admin = app.admin_token().await;
    app.create_user(&admin, "rita", "red_tech", "rita-password-1")
        .await;
    let rita = session_cookie(&app, "rita", "rita-password-1").await;
    let response = page(&app, "/", Some(&rita)).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Red Team Technician") && html.contains("My profile"));
    assert!(
        !html.contains("nav-admin"),
        "no admin section for a red_tech"
    );
    for path in ["/admin/users", "/admin/audit"] {
        let response = page(&app, path, Some(&rita)).await;
        assert_eq!(response.status(), 403, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("You do not have access to this page"));
        assert!(
            !html.contains("users-table") && !html.contains("admin@"),
            "no data leaks into a 403 page"
        );
    }
    let response = page(&app, "/no/such/page", Some(&rita)).await;
    assert_eq!(response.status(), 404);
    app
}

async fn forms_work_without_javascript(app: TestApp) -> TestApp {
    // A plain HTML form post to the login server function: cookie set, then on to `next`.
    let response = app
        .client
        .post(app.url("/api/fn/login"))
        .header("accept", "text/html")
        .header("origin", app.origin())
        .header("referer", app.url("/login?next=%2Fadmin%2Faudit"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "/admin/audit"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/admin/audit");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // A failed form post goes back to the form with the error for the page to show.
    let response = app
        .client
        .post(app.url("/api/fn/login"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", "wrong-password"),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/login"), "{location}");
    let html = app
        .client
        .get(&location)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Invalid username or password"),
        "the error shows on the re-rendered form"
    );

    // An off-site `next` is ignored.
    let response = app
        .client
        .post(app.url("/api/fn/login"))
        .header("accept", "text/html")
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/");

    let response = app
        .client
        .post(app.url("/api/fn/logout"))
        .header("accept", "text/html")
        .header("cookie", &cookie)
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/login");
    let response = app
        .request(Method::GET, "/api/v1/auth/me", None)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app
}
