//! Bad input on every REST route: malformed JSON, wrong types, huge strings and numbers,
//! invalid UTF-8, odd path ids and odd query strings. Each must get a 4xx with the JSON error
//! body (or be accepted as harmless), never a 5xx, never a dropped connection.
use crate::common::{Backend, TestApp};
use crate::for_each_backend;
use reqwest::Method;

for_each_backend!(every_route_answers_bad_input_with_a_json_4xx);

/// Every route of `server/src/rest/mod.rs`, with its methods. Keep in step with the router.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/auth/login"),
    ("GET", "/auth/me"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("GET", "/audit-logs"),
    ("GET", "/audit-logs/actions"),
    ("GET", "/audit-logs/entity-types"),
    ("GET", "/techniques"),
    ("POST", "/techniques"),
    ("GET", "/techniques/{id}"),
    ("PATCH", "/techniques/{id}"),
    ("PATCH", "/techniques/{id}/review"),
    ("GET", "/tactics"),
    ("GET", "/threat-actors"),
    ("GET", "/threat-actors/{id}"),
    ("POST", "/system/import-attack-bundle"),
    ("GET", "/system/sync-runs"),
    ("POST", "/system/sync-mitre"),
    ("POST", "/system/import-atomic-red-team"),
    ("GET", "/system/scheduler-status"),
    ("GET", "/system/jobs"),
    ("GET", "/system/jobs/{id}"),
    ("POST", "/system/jobs/{id}/run"),
    ("GET", "/test-templates"),
    ("POST", "/test-templates"),
    ("GET", "/test-templates/stats"),
    ("GET", "/test-templates/{id}"),
    ("PATCH", "/test-templates/{id}"),
    ("DELETE", "/test-templates/{id}"),
    ("POST", "/test-templates/{id}/toggle-active"),
    ("GET", "/notifications"),
    ("GET", "/notifications/unread-count"),
    ("POST", "/notifications/read-all"),
    ("PATCH", "/notifications/{id}/read"),
    ("GET", "/tests"),
    ("POST", "/tests"),
    ("POST", "/tests/from-template"),
    ("GET", "/tests/{id}"),
    ("PATCH", "/tests/{id}"),
    ("PATCH", "/tests/{id}/red"),
    ("PATCH", "/tests/{id}/blue"),
    ("PATCH", "/tests/{id}/remediation"),
    ("POST", "/tests/{id}/start-execution"),
    ("POST", "/tests/{id}/submit-red"),
    ("POST", "/tests/{id}/submit-blue"),
    ("POST", "/tests/{id}/validate-red"),
    ("POST", "/tests/{id}/validate-blue"),
    ("POST", "/tests/{id}/reopen"),
    ("POST", "/tests/{id}/pause-timer"),
    ("POST", "/tests/{id}/resume-timer"),
    ("GET", "/tests/{id}/timeline"),
    ("GET", "/tests/{id}/retest-chain"),
    ("POST", "/tests/{id}/evidence"),
    ("GET", "/evidence/{id}"),
    ("GET", "/evidence/{id}/download"),
    ("GET", "/metrics/summary"),
    ("GET", "/metrics/by-tactic"),
    ("GET", "/metrics/test-pipeline"),
    ("GET", "/metrics/team-activity"),
    ("GET", "/metrics/validation-rate"),
    ("GET", "/metrics/recent-tests"),
    ("GET", "/metrics/coverage-history"),
    ("GET", "/reports/coverage-summary"),
    ("GET", "/reports/coverage-csv"),
    ("GET", "/reports/test-results"),
    ("GET", "/reports/remediation-status"),
    ("GET", "/reports/navigator-layer"),
    ("POST", "/reports/navigator-layer"),
    ("GET", "/technique-sets"),
    ("GET", "/technique-sets/{id}"),
    ("DELETE", "/technique-sets/{id}"),
    // Last: it revokes the token the others use.
    ("POST", "/auth/logout"),
];

const ODD_IDS: &[&str] = &[
    "not-a-uuid",
    "%00",
    "%FF%FE",
    "..%2F..%2Fetc%2Fpasswd",
    "99999999999999999999999999",
    "-1",
    "T1059'%20OR%201=1--",
    "%E2%80%AE",
];

const ODD_QUERIES: &[&str] = &[
    "limit=-1",
    "limit=99999999999999999999999",
    "offset=abc&limit=1.5",
    "state=%FF&technique=%00",
    "from=2026-13-45&to=yesterday",
    "date_from=%00&granularity=century",
    "search=%25%25%25_\\&platform=%0A",
    "a[b]=c&&&=&limit=1&limit=2",
    "format=exe&status=maybe&mine=perhaps",
];

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("application/json", b"{".to_vec()),
        ("application/json", b"[]".to_vec()),
        (
            "application/json",
            br#"{"title": 5, "technique_id": [], "version": "x", "status": 7, "username": {}, "role": null, "severity": 1e999, "limit": -5}"#.to_vec(),
        ),
        (
            "application/json",
            br#"{"version": 99999999999999999999999, "time_to_detect_seconds": 1e308}"#.to_vec(),
        ),
        ("application/json", vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
        ("application/json", "[".repeat(10_000).into_bytes()),
        (
            "application/json",
            br#"{"username": "a\u0000b", "password": "p\u0000", "title": "x\u0000", "name": "\u0000"}"#.to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"username=a%00b&password=p%00&search=%00".to_vec(),
        ),
        (
            "application/json",
            format!(r#"{{"title": "{}"}}"#, "x".repeat(200_000)).into_bytes(),
        ),
        ("text/plain", b"just text".to_vec()),
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken".to_vec()),
    ]
}

async fn check(label: &str, response: Result<reqwest::Response, reqwest::Error>) {
    let response = response.unwrap_or_else(|e| panic!("{label}: no answer: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(!status.is_server_error(), "{label}: {status} {text}");
    if status.is_client_error() {
        let body: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{label}: {status} without a JSON body: {text}"));
        assert!(
            body["detail"].is_string(),
            "{label}: {status} without detail: {text}"
        );
    }
}

async fn every_route_answers_bad_input_with_a_json_4xx(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        &[(
            "AEGIS_ATOMICS_ARCHIVE_URL",
            "http://127.0.0.1:9/atomic-red-team.zip".into(),
        )],
    )
    .await;
    let admin = app.admin_token().await;
    let long_id = "x".repeat(3000);
    for (method, template) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let has_id = template.contains("{id}");
        let mut ids: Vec<&str> = ODD_IDS.to_vec();
        ids.push(&long_id);
        let paths: Vec<String> = if has_id {
            ids.iter().map(|id| template.replace("{id}", id)).collect()
        } else {
            vec![template.to_string()]
        };
        for path in &paths {
            let url = format!("/api/v1{path}");
            let label = format!("{method} {url}");
            check(
                &label,
                app.request(method.clone(), &url, Some(&admin)).send().await,
            )
            .await;
            for query in ODD_QUERIES {
                let url = format!("/api/v1{path}?{query}");
                check(
                    &format!("{method} {url}"),
                    app.request(method.clone(), &url, Some(&admin)).send().await,
                )
                .await;
            }
            if method == Method::POST || method == Method::PATCH {
                for (content_type, body) in bodies() {
                    check(
                        &format!("{label} with a bad {content_type} body"),
                        app.request(method.clone(), &url, Some(&admin))
                            .header("content-type", content_type)
                            .body(body)
                            .send()
                            .await,
                    )
                    .await;
                }
            }
        }
    }
    // Unknown routes and methods answer in the same shape.
    check(
        "GET /api/v1/no-such-route",
        app.request(Method::GET, "/api/v1/no-such-route", Some(&admin))
            .send()
            .await,
    )
    .await;
    app.finish().await;
}
