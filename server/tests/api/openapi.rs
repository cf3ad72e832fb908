//! The API description: served, complete, true to the routes, and the docs page over it.
//! (Every other HTTP test also holds its answers against it: `common::contract`.)
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;

on_both_backends!(document_matches_the_routes);

/// A value for a path parameter that routes (the answer is then a 404 from the handler,
/// not the catch-all's).
fn sample(name: &str) -> &'static str {
    match name {
        "mitre_id" => "T9999",
        "version" => "1",
        "key" | "function" => "no-such-key",
        _ => "00000000-0000-4000-8000-000000000000",
    }
}

fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => sample(name).to_owned(),
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

async fn document_matches_the_routes(app: TestApp) -> TestApp {
    // Served without a sign-in, as OpenAPI 3.1.
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document = json_body(response).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(&document, server::rest::document());
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "aegis_session");
    assert_eq!(
        document["components"]["schemas"]["Error"]["required"],
        serde_json::json!(["detail"])
    );

    // Every documented operation exists: it reaches a handler, not the catch-all or a 405.
    let token = app.admin_token().await;
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() > 100, "only {} paths", paths.len());
    let mut operation_ids = HashSet::new();
    let mut logout = None;
    for (template, item) in paths {
        assert!(template.starts_with("/api/v1/"), "{template}");
        let item = item.as_object().unwrap();
        for (method, operation) in item {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                operation_ids.insert(id.to_owned()),
                "operationId {id} twice"
            );
            assert!(!operation["summary"].as_str().unwrap().is_empty());
            let description = operation["description"].as_str().unwrap();
            assert!(
                description.starts_with("Roles: ")
                    || description.starts_with("Any signed-in user")
                    || description.starts_with("No sign-in needed"),
                "{method} {template}: {description}"
            );
            assert!(
                operation["responses"].as_object().unwrap().len() > 1
                    || template.ends_with("openapi.json")
            );
            // The path's parameters are all described.
            let names: Vec<&str> = template
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let described: Vec<&str> = operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, described, "{method} {template}");
            if template == "/api/v1/auth/logout" {
                logout = Some(concrete(template));
                continue;
            }
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let response = app
                .request(method.clone(), &concrete(template), Some(&token))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {template}: not routed");
            assert!(
                !(status == 404 && body.contains("No such API endpoint")),
                "{method} {template}: not routed"
            );
            assert!(status < 500, "{method} {template}: {status} {body}");
        }
        // And a method it does not document is refused: nothing undocumented on the path.
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.contains_key(method) {
                continue;
            }
            let response = app
                .request(
                    Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap(),
                    &concrete(template),
                    Some(&token),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {template}");
        }
    }
    let response = app
        .request(Method::POST, &logout.unwrap(), Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // Every reference resolves.
    let text = document.to_string();
    for target in text.split("\"$ref\":\"").skip(1) {
        let target = &target[..target.find('"').unwrap()];
        let pointer = target.trim_start_matches('#');
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }

    // Roles are the ones the route enforces, before the body is read.
    let users = &document["paths"]["/api/v1/users"]["post"];
    assert_eq!(users["description"], "Roles: `admin`.");
    let admin = app.admin_token().await;
    app.create_user(&admin, "vera", "viewer", "viewer-password-123")
        .await;
    let viewer = app.login("vera", "viewer-password-123").await;
    let response = app
        .request(Method::POST, "/api/v1/users", Some(&viewer))
        .header("content-type", "text/plain")
        .body("not even JSON")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .request(Method::POST, "/api/v1/users", None)
        .header("content-type", "text/plain")
        .body("not even JSON")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A query's fields are parameters; a body's schema is a component.
    let list = &document["paths"]["/api/v1/tests"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"state"), "{names:?}");
    let create = &document["paths"]["/api/v1/tests"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateTestRequest"
    );
    assert_eq!(
        create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/TestDetail"
    );
    assert_eq!(
        create["responses"]["422"]["$ref"],
        "#/components/responses/Error422"
    );
    app
}

#[tokio::test]
async fn docs_page_is_served_from_this_origin() {
    let app = TestApp::start(crate::common::Backend::Sqlite).await;
    let response = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert!(response.status().is_redirection());
    let response = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for asset in ["/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"] {
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 10_000, "{asset}");
    }
    let initializer = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
    let _: Value = serde_json::from_str(
        &app.client
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    app.finish().await;
}

/// `docs/api.md`'s automation script, run as written against a real server: sign in, a
/// test from a template walked to validated with evidence, the coverage CSV.
#[tokio::test]
async fn the_documented_automation_script_runs() {
    let app = TestApp::start(crate::common::Backend::Sqlite).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script_path = root.join("docs/examples/automation.sh");
    let script = std::fs::read_to_string(&script_path).unwrap();
    let guide = std::fs::read_to_string(root.join("docs/api.md")).unwrap();
    assert!(
        guide.contains(script.trim()),
        "docs/api.md must show docs/examples/automation.sh as it is"
    );

    let admin = app.admin_token().await;
    app.import_bundle(
        &admin,
        "bundle.json",
        crate::workflow::BUNDLE.as_bytes().to_vec(),
    )
    .await;
    let response = app
        .post_json(
            "/api/v1/test-templates",
            &admin,
            serde_json::json!({
                "technique_id": "T1059.001",
                "name": "Encoded PowerShell from the CI runner",
                "platforms": ["windows"],
                "executor_name": "powershell",
                "command": "powershell -enc ZQBjAGgAbwA=",
                "severity": "high"
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let evidence = app.data_dir().join("runner.log");
    std::fs::write(&evidence, "runner output\n").unwrap();
    let out = app.data_dir().join("coverage.csv");
    let mut command = std::process::Command::new("bash");
    command
        .arg(&script_path)
        .arg(&evidence)
        .env("AEGIS_URL", app.origin())
        .env("AEGIS_USER", "admin")
        .env("AEGIS_PASSWORD", crate::common::ADMIN_PASSWORD)
        .env("AEGIS_TEMPLATE", "Encoded PowerShell")
        .env("AEGIS_OUT", &out);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("bash, curl and jq (scripts/test.sh installs them)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("is validated"), "{stdout}");
    assert!(stdout.contains("runner.log, 14 bytes"), "{stdout}");

    // The server saw it all: a validated test with its evidence, covered in the CSV.
    let tests = json_body(app.get("/api/v1/tests?state=validated", &admin).await).await;
    assert_eq!(tests["total"], 1, "{tests}");
    let id = tests["items"][0]["id"].as_str().unwrap();
    let detail = json_body(app.get(&format!("/api/v1/tests/{id}"), &admin).await).await;
    assert_eq!(
        detail["red_evidence"].as_array().unwrap().len(),
        1,
        "{detail}"
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let row = csv
        .lines()
        .find(|line| line.starts_with("T1059.001,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        row.contains("covered") || row.contains("validated"),
        "{row}"
    );
    app.finish().await;
}
