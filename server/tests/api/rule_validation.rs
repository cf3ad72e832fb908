//! Rule validation by tests through a real lifecycle: the blue side names the rules that fired
//! (only rules of the test's technique or its parent, or custom ones), a validated test proves
//! them, a validated `not_detected` test of their technique fails active ones, the latest
//! evidence wins; the report of untested and failed rules and the matrix's rules layer.
use crate::catalog_sources::{folder, import};
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use crate::workflow::{Crew, act, create_test, patch, vote};
use serde_json::{Value, json};

on_both_backends!(validated_tests_prove_and_fail_rules);

fn sigma(id: &str, title: &str, technique: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nstatus: test\ndescription: {title}\ntags:\n    - attack.{}\nlogsource:\n    product: windows\ndetection:\n    selection:\n        Image|endswith: x.exe\n    condition: selection\nlevel: high\n",
        technique.to_lowercase()
    )
}

async fn proofs(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let page = json_body(
        app.get(
            "/api/v1/detection-rules?limit=100&include_inactive=true",
            token,
        )
        .await,
    )
    .await;
    let mut out: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["title"].as_str().unwrap().to_owned(),
                r["proof"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn id_of(page: &Value, title: &str) -> String {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("{title} in {page}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Takes a test of `technique` to validated, its blue side saying `detection` and naming
/// `fired` rules.
async fn validated(
    app: &TestApp,
    crew: &Crew,
    technique: &str,
    detection: &str,
    fired: &[String],
) -> String {
    let test = create_test(
        app,
        &crew.red_lead,
        json!({"title": format!("Exercise {technique}"), "technique_id": technique}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    act(app, &crew.red_tech, &id, "start-execution", 200).await;
    act(app, &crew.red_tech, &id, "submit-red", 200).await;
    patch(
        app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": detection, "fired_rule_ids": fired}),
        200,
    )
    .await;
    act(app, &crew.blue_tech, &id, "submit-blue", 200).await;
    vote(app, &crew.red_lead, &id, "red", "approved", 200).await;
    vote(app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    id
}

/// The techniques of the matrix's rules layer.
async fn layer(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let list = json_body(
        app.get(&format!("/api/v1/techniques?rules={query}"), token)
            .await,
    )
    .await;
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["mitre_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn validated_tests_prove_and_fail_rules(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let files = [
        (
            "rules/ps.yml",
            sigma(
                "aaaa0000-0000-4000-8000-000000000001",
                "PowerShell rule",
                "T1059.001",
            ),
        ),
        (
            "rules/interp.yml",
            sigma(
                "aaaa0000-0000-4000-8000-000000000002",
                "Interpreter rule",
                "T1059",
            ),
        ),
        (
            "rules/task.yml",
            sigma("aaaa0000-0000-4000-8000-000000000003", "Task rule", "T1053"),
        ),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let report = import(&app, &crew.admin, "sigma", folder(&refs)).await;
    assert_eq!(report["added"], 3, "{report}");
    let response = app
        .post_json(
            "/api/v1/detection-rules",
            &crew.blue_lead,
            json!({"title": "Our task rule", "techniques": ["T1053"]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let all = json_body(
        app.get("/api/v1/detection-rules?limit=100", &crew.viewer)
            .await,
    )
    .await;
    let (ps, interp, task, ours) = (
        id_of(&all, "PowerShell rule"),
        id_of(&all, "Interpreter rule"),
        id_of(&all, "Task rule"),
        id_of(&all, "Our task rule"),
    );
    assert!(
        proofs(&app, &crew.viewer)
            .await
            .iter()
            .all(|(_, p)| p == "untested")
    );

    // The blue side may name only rules of the technique or its parent, or custom ones.
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "PowerShell cradle", "technique_id": "T1059.001"}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    act(&app, &crew.red_tech, &id, "start-execution", 200).await;
    act(&app, &crew.red_tech, &id, "submit-red", 200).await;
    let detail = json_body(
        app.get(&format!("/api/v1/tests/{id}"), &crew.blue_tech)
            .await,
    )
    .await;
    let mut choices: Vec<&str> = detail["rule_choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    choices.sort();
    assert_eq!(
        choices,
        ["Interpreter rule", "Our task rule", "PowerShell rule"]
    );
    let blue = format!("/api/v1/tests/{id}/blue");
    let refused = patch(
        &app,
        &crew.blue_tech,
        &blue,
        json!({"fired_rule_ids": [task]}),
        422,
    )
    .await;
    assert!(
        refused["fields"]["fired_rule_ids"]
            .as_str()
            .unwrap()
            .contains("'Task rule' maps to T1053, not to T1059.001"),
        "{refused}"
    );
    let missing = patch(
        &app,
        &crew.blue_tech,
        &blue,
        json!({"fired_rule_ids": ["00000000-0000-4000-8000-000000000000"]}),
        422,
    )
    .await;
    assert!(
        missing["fields"]["fired_rule_ids"]
            .as_str()
            .unwrap()
            .contains("no detection rule")
    );
    patch(
        &app,
        &crew.red_tech,
        &blue,
        json!({"fired_rule_ids": [ps]}),
        403,
    )
    .await;
    let saved = patch(
        &app,
        &crew.blue_tech,
        &blue,
        json!({"detection_result": "detected", "fired_rule_ids": [ps, interp, ours, ps]}),
        200,
    )
    .await;
    assert_eq!(saved["fired_rules"].as_array().unwrap().len(), 3);
    let timeline = json_body(
        app.get(&format!("/api/v1/tests/{id}/timeline"), &crew.viewer)
            .await,
    )
    .await;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "test.blue_update"
                && e["details"]["changed"]
                    .as_array()
                    .is_some_and(|c| c.contains(&json!("fired_rule_ids")))),
        "{timeline}"
    );
    // Not proven before the test is validated.
    assert!(
        proofs(&app, &crew.viewer)
            .await
            .iter()
            .all(|(_, p)| p == "untested")
    );
    act(&app, &crew.blue_tech, &id, "submit-blue", 200).await;
    vote(&app, &crew.red_lead, &id, "red", "approved", 200).await;
    vote(&app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    assert_eq!(
        proofs(&app, &crew.viewer).await,
        [
            ("Interpreter rule".into(), "proven".into()),
            ("Our task rule".into(), "proven".into()),
            ("PowerShell rule".into(), "proven".into()),
            ("Task rule".into(), "untested".into()),
        ]
    );

    // A later validated test of T1053 that went undetected fails both of its active rules.
    validated(&app, &crew, "T1053", "not_detected", &[]).await;
    assert_eq!(
        proofs(&app, &crew.viewer).await,
        [
            ("Interpreter rule".into(), "proven".into()),
            ("Our task rule".into(), "failed".into()),
            ("PowerShell rule".into(), "proven".into()),
            ("Task rule".into(), "failed".into()),
        ]
    );
    let failed = json_body(
        app.get("/api/v1/detection-rules?proof=failed", &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(failed["total"], 2);
    let proven = json_body(
        app.get("/api/v1/detection-rules?validated=true", &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(proven["total"], 2);
    assert_eq!(
        app.get("/api/v1/detection-rules?proof=maybe", &crew.viewer)
            .await
            .status(),
        422
    );

    // The technique page's list and the rule page say so too.
    let rule = json_body(
        app.get(&format!("/api/v1/detection-rules/{task}"), &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(rule["proof"], "failed");

    // The report of untested and failed rules, as JSON and CSV.
    let report = json_body(
        app.get("/api/v1/reports/detection-rules", &crew.viewer)
            .await,
    )
    .await;
    let titles: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Our task rule", "Task rule"]);
    assert_eq!(report["total"], 2);
    let csv = app
        .get(
            "/api/v1/reports/detection-rules?format=csv&proof=proven",
            &crew.viewer,
        )
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("rule_id,source,upstream_id,title"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(csv.contains("Interpreter rule") && csv.contains("proven"));
    assert_eq!(
        app.get("/api/v1/reports/detection-rules?format=xml", &crew.viewer)
            .await
            .status(),
        422
    );

    // The matrix's rules layer.
    let v = &crew.viewer;
    assert_eq!(layer(&app, v, "proven").await, ["T1059", "T1059.001"]);
    assert_eq!(layer(&app, v, "any").await, ["T1053", "T1059", "T1059.001"]);
    let none = layer(&app, v, "none").await;
    assert!(!none.contains(&"T1053".to_owned()) && none.contains(&"T1595".to_owned()));
    assert_eq!(
        app.get("/api/v1/techniques?rules=some", &crew.viewer)
            .await
            .status(),
        422
    );

    // A rule switched off is not failed by what it could not have caught.
    patch(
        &app,
        &crew.blue_lead,
        &format!("/api/v1/detection-rules/{task}"),
        json!({"is_active": false}),
        200,
    )
    .await;
    let rule = json_body(
        app.get(&format!("/api/v1/detection-rules/{task}"), &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(rule["proof"], "untested");
    app
}
