//! The security review's findings, each tried as an attacker would, on both backends.
use crate::common::{ADMIN_PASSWORD, Backend, TestApp, json_body, wait_for_run};
use crate::evidence::upload;
use crate::workflow::{BUNDLE, Crew, create_test};
use crate::{for_each_backend, on_both_backends};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

on_both_backends!(
    login_input_is_bounded_before_any_work,
    parallel_guesses_cannot_outrun_the_limiter,
    redirects_after_login_stay_on_site,
    evidence_downloads_stay_sandboxed,
    password_checks_are_limited_like_sign_ins,
    planted_reference_links_never_become_links,
);
for_each_backend!(
    a_spray_across_usernames_meets_the_address_limit,
    forged_forwarded_for_buys_no_fresh_attempts,
    server_function_uploads_are_bounded,
    zip_bombs_fail_the_import_at_once,
    secure_cookies_get_the_host_prefix_and_hsts,
);

async fn audit_total(app: &TestApp, admin: &str) -> u64 {
    json_body(app.get("/api/v1/audit-logs?limit=1", admin).await).await["total"]
        .as_u64()
        .unwrap()
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> u16 {
    app.login_response(username, password)
        .await
        .status()
        .as_u16()
}

async fn login_input_is_bounded_before_any_work(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let before = audit_total(&app, &admin).await;
    // Within the body limit, but no username is that long: refused before any work.
    let long = "a".repeat(10_000);
    let response = app.login_response(&long, "whatever-password").await;
    assert_eq!(response.status(), 422);
    let body = json_body(response).await;
    assert!(body["fields"]["username"].is_string(), "{body}");
    // Beyond the body limit: refused unread.
    let huge = "a".repeat(1_000_000);
    let response = app.login_response(&huge, "whatever-password").await;
    assert_eq!(response.status(), 413);
    assert!(json_body(response).await["detail"].is_string());
    let response = app.login_response("admin", &"p".repeat(10_000)).await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["password"].is_string());
    // Nothing was verified, limited or audited.
    assert_eq!(audit_total(&app, &admin).await, before);
    assert_eq!(login_status(&app, "admin", ADMIN_PASSWORD).await, 200);
    app
}

async fn parallel_guesses_cannot_outrun_the_limiter(app: TestApp) -> TestApp {
    let guesses = (0..50).map(|i| {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/login");
        async move {
            client
                .post(url)
                .json(&json!({"username": "admin", "password": format!("wrong-{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verified, 5, "{statuses:?}");
    assert_eq!(limited, 45, "{statuses:?}");
    app
}

async fn a_spray_across_usernames_meets_the_address_limit(backend: Backend) {
    let app = TestApp::start_with(backend, &[("AEGIS_LOGIN_IP_ATTEMPTS", "10".into())]).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(login_status(&app, &format!("nobody-{i}"), "wrong-password").await);
    }
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    app.finish().await;
}

async fn forged_forwarded_for_buys_no_fresh_attempts(backend: Backend) {
    let app = TestApp::start_with(backend, &[("AEGIS_TRUST_PROXY_HEADERS", "true".into())]).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        // The client writes the leftmost entry; our proxy appends the address it saw.
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}, 203.0.113.9"))
            .json(&json!({"username": "admin", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(&statuses[5..], &[429; 3], "{statuses:?}");
    let admin = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.50")
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    let token = json_body(admin).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let failures = json_body(
        app.get("/api/v1/audit-logs?action=auth.login_failed", &token)
            .await,
    )
    .await;
    let ips: Vec<&str> = failures["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client_ip"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ips, vec!["203.0.113.9"; 5], "no forged address is recorded");
    app.finish().await;
}

async fn redirects_after_login_stay_on_site(app: TestApp) -> TestApp {
    for next in [
        "/\t/evil.example",
        "/\n",
        "/ /evil.example",
        "/\\evil.example",
    ] {
        let response = app
            .client
            .post(app.url("/api/fn/login"))
            .header("accept", "text/html")
            .form(&[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "{next:?}: {}",
            response.status()
        );
        assert_eq!(response.headers()["location"], "/", "{next:?}");
    }
    app
}

async fn server_function_uploads_are_bounded(backend: Backend) {
    let app = TestApp::start_with(backend, &[("AEGIS_MAX_IMPORT_BYTES", "4096".into())]).await;
    let admin = app.admin_token().await;
    let big = vec![b' '; 64 * 1024];
    let response = app
        .request(Method::POST, "/api/fn/import_attack_bundle", Some(&admin))
        .multipart(Form::new().part("file", Part::bytes(big.clone()).file_name("big.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // Its REST twin says the same, with the JSON error body.
    let response = app.import_bundle(&admin, "big.json", big).await;
    assert_eq!(response.status(), 413);
    assert!(json_body(response).await["detail"].is_string());
    // A multipart body without a boundary is a JSON 400, not plain text.
    let response = app
        .request(
            Method::POST,
            "/api/v1/system/import-attack-bundle",
            Some(&admin),
        )
        .header("content-type", "multipart/form-data")
        .body("nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(json_body(response).await["detail"].is_string());
    app.finish().await;
}

async fn evidence_downloads_stay_sandboxed(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Active content", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let form = Form::new().text("team", "red").part(
        "file",
        Part::bytes(page)
            .file_name("page.html")
            .mime_str("text/html")
            .unwrap(),
    );
    let (status, evidence) = upload(&app, &crew.red_tech, id, form).await;
    assert_eq!(status, 201, "{evidence}");
    let info = json_body(
        app.get(
            &format!("/api/v1/evidence/{}", evidence["id"].as_str().unwrap()),
            &crew.viewer,
        )
        .await,
    )
    .await;
    let url = info["download_url"].as_str().unwrap();
    let response = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-security-policy"], "sandbox");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    app
}

async fn password_checks_are_limited_like_sign_ins(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    app.create_user(&admin, "pat", "viewer", "pat-password-123")
        .await;
    let pat = app.login("pat", "pat-password-123").await;
    let mut statuses = Vec::new();
    for i in 0..7 {
        let response = app
            .request(Method::POST, "/api/fn/change_password", Some(&pat))
            .form(&[
                ("current_password", format!("guess-{i}-password")),
                ("new_password", "another-password-456".to_owned()),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[422; 5], "{statuses:?}");
    assert_eq!(&statuses[5..], &[429, 429], "{statuses:?}");
    app
}

/// A zip whose one atomics entry claims `claimed` bytes and inflates to `real`.
fn zip_bomb(claimed: u32, real: usize) -> Vec<u8> {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("atomics/T1059/T1059.yaml", options).unwrap();
        let block = vec![b' '; 64 * 1024];
        let mut left = real;
        while left > 0 {
            let n = left.min(block.len());
            zip.write_all(&block[..n]).unwrap();
            left -= n;
        }
        zip.finish().unwrap();
    }
    let mut bytes = cursor.into_inner();
    // The local header's and the central directory's uncompressed sizes.
    bytes[22..26].copy_from_slice(&claimed.to_le_bytes());
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 24..central + 28].copy_from_slice(&claimed.to_le_bytes());
    bytes
}

async fn zip_bombs_fail_the_import_at_once(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        &[("AEGIS_MAX_ARCHIVE_FILE_BYTES", "1048576".into())],
    )
    .await;
    let admin = app.admin_token().await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/system/import-atomic-red-team",
            Some(&admin),
        )
        .multipart(Form::new().part(
            "file",
            Part::bytes(zip_bomb(100, 20 * 1024 * 1024)).file_name("bomb.zip"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let enqueued: Value = json_body(response).await;
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("unpacks to more than 1048576 bytes"),
        "{run}"
    );
    assert_eq!(run["attempts"], 1, "refused input is not retried: {run}");
    let page = json_body(app.get("/api/v1/test-templates", &admin).await).await;
    assert_eq!(page["total"], 0);
    // Uploads waited in the data directory, in a folder only this user can enter.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let uploads = app.data_dir().join("uploads");
        let mode = std::fs::metadata(&uploads).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(
            std::fs::read_dir(&uploads).unwrap().count(),
            0,
            "and are gone"
        );
    }
    app.finish().await;
}

async fn secure_cookies_get_the_host_prefix_and_hsts(backend: Backend) {
    let app = TestApp::start_with(backend, &[("AEGIS_COOKIE_SECURE", "true".into())]).await;
    let response = app.login_response("admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-aegis_session="), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/"));
    assert!(!cookie.contains("Domain"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me = app
        .request(Method::GET, "/api/v1/auth/me", None)
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // A cookie without the prefix (planted by a sibling site) is not a session.
    let planted = pair.replacen("__Host-", "", 1);
    let me = app
        .request(Method::GET, "/api/v1/auth/me", None)
        .header("cookie", &planted)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    app.finish().await;
}

async fn planted_reference_links_never_become_links(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let crafted = BUNDLE.replace(
        "\"url\": \"https://attack.mitre.org/techniques/T1059\"",
        "\"url\": \"javascript:alert(document.cookie)\"",
    );
    assert_ne!(crafted, BUNDLE, "the fixture holds the reference");
    let response = app
        .import_bundle(&admin, "crafted.json", crafted.into_bytes())
        .await;
    assert_eq!(response.status(), 200);
    let technique = json_body(app.get("/api/v1/techniques/T1059", &admin).await).await;
    assert!(technique["url"].is_null(), "{}", technique["url"]);
    let cookie = format!("aegis_session={admin}");
    let html = app
        .client
        .get(app.url("/techniques/T1059"))
        .header("cookie", cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("javascript:alert"),
        "the page links nothing unsafe"
    );
    app
}
