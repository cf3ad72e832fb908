//! Metrics, reports and Navigator layers through HTTP, checked against figures computed by
//! hand for one seeded scenario: tests in every state, two leads voting, a rejection, gaps
//! with remediation, evidence on both sides.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use crate::workflow::{Crew, act, create_test, patch, test_in_review, vote};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

on_both_backends!(
    metrics_match_the_hand_computed_scenario,
    reports_match_the_scenario_and_csv_parses_back,
    navigator_layers_export_import_and_filter,
    generated_data_adds_up_in_the_metrics,
);

/// The seeded tests, by letter (see `seed`).
struct Scenario {
    crew: Crew,
    a: String,
    c: String,
}

const EVIL_TITLE: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";
const TRICKY_ALERT: &str = "Alert, \"quoted\"\nsecond line é";

async fn upload(app: &TestApp, token: &str, test: &str, team: &str) {
    let form = Form::new()
        .text("team", team.to_owned())
        .text("description", "proof".to_owned())
        .part("file", Part::bytes(vec![1u8; 64]).file_name("proof.txt"));
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/tests/{test}/evidence"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// A: T1059.001 validated, detected, evidence on both sides, a formula-like title.
/// B: T1059 rejected by the blue lead, not detected (an open gap).
/// C: T1053 validated, partial, remediation in progress, overdue, one of two steps done.
/// D: T1059.004 draft. E: T1059.004 red executing (platform linux). F: T1059 blue evaluating.
async fn seed(app: &TestApp) -> Scenario {
    let crew = Crew::hire(app).await;
    // A
    let a = create_test(
        app,
        &crew.red_lead,
        json!({"title": EVIL_TITLE, "technique_id": "T1059.001"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    act(app, &crew.red_tech, &a, "start-execution", 200).await;
    upload(app, &crew.red_tech, &a, "red").await;
    act(app, &crew.red_tech, &a, "submit-red", 200).await;
    patch(
        app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{a}/blue"),
        json!({"detection_result": "detected", "alert_fired": true, "alert_name": TRICKY_ALERT, "time_to_detect_seconds": 42}),
        200,
    )
    .await;
    upload(app, &crew.blue_tech, &a, "blue").await;
    act(app, &crew.blue_tech, &a, "submit-blue", 200).await;
    vote(app, &crew.red_lead, &a, "red", "approved", 200).await;
    vote(app, &crew.blue_lead, &a, "blue", "approved", 200).await;
    // B
    let b = test_in_review(app, &crew, "T1059", "not_detected").await;
    vote(app, &crew.red_lead, &b, "red", "approved", 200).await;
    let rejected = vote(app, &crew.blue_lead, &b, "blue", "rejected", 200).await;
    assert_eq!(rejected["state"], "rejected");
    // C
    let c = test_in_review(app, &crew, "T1053", "partial").await;
    vote(app, &crew.red_lead, &c, "red", "approved", 200).await;
    vote(app, &crew.blue_lead, &c, "blue", "approved", 200).await;
    let with_steps = patch(
        app,
        &crew.blue_lead,
        &format!("/api/v1/tests/{c}/remediation"),
        json!({
            "remediation_status": "in_progress",
            "remediation_owner": crew.blue_lead_id,
            "remediation_due_date": "2020-01-31",
            "steps": [{"title": "Write the rule"}, {"title": "Deploy it"}]
        }),
        200,
    )
    .await;
    let first = with_steps["remediation_steps"][0]["id"].clone();
    let second = with_steps["remediation_steps"][1]["id"].clone();
    patch(
        app,
        &crew.blue_lead,
        &format!("/api/v1/tests/{c}/remediation"),
        json!({"steps": [
            {"id": first, "title": "Write the rule", "status": "done"},
            {"id": second, "title": "Deploy it"}
        ]}),
        200,
    )
    .await;
    // D, E, F
    create_test(
        app,
        &crew.red_lead,
        json!({"title": "Draft shell test", "technique_id": "T1059.004"}),
    )
    .await;
    let e = create_test(
        app,
        &crew.red_lead,
        json!({"title": "Shell on Linux", "technique_id": "T1059.004", "platform": "linux"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    act(app, &crew.red_tech, &e, "start-execution", 200).await;
    let f = create_test(
        app,
        &crew.red_lead,
        json!({"title": "Interpreter again", "technique_id": "T1059"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    act(app, &crew.red_tech, &f, "start-execution", 200).await;
    act(app, &crew.red_tech, &f, "submit-red", 200).await;
    Scenario { crew, a, c }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(path, token).await;
    let status = response.status().as_u16();
    let body = json_body(response).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn status_of(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app.get(path, token).await;
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

fn states(value: &Value) -> Vec<(String, u64)> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["state"].as_str().unwrap().to_owned(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected_states(counts: [u64; 6]) -> Vec<(String, u64)> {
    [
        "draft",
        "red_executing",
        "blue_evaluating",
        "in_review",
        "validated",
        "rejected",
    ]
    .iter()
    .zip(counts)
    .map(|(s, n)| ((*s).to_owned(), n))
    .collect()
}

async fn metrics_match_the_hand_computed_scenario(app: TestApp) -> TestApp {
    let s = seed(&app).await;
    let viewer = &s.crew.viewer;

    let summary = get(&app, viewer, "/api/v1/metrics/summary").await;
    assert_eq!(
        summary["techniques"],
        json!({"total": 5, "validated": 1, "partial": 1, "in_progress": 2, "not_covered": 1})
    );
    assert_eq!(summary["coverage_percent"], 20.0);
    assert_eq!(
        summary["top_level"],
        json!({"total": 3, "validated": 0, "partial": 1, "in_progress": 1, "not_covered": 1})
    );
    assert_eq!(summary["top_level_coverage_percent"], 0.0);
    assert_eq!(
        states(&summary["tests_by_state"]),
        expected_states([1, 1, 1, 0, 2, 1])
    );
    assert_eq!(summary["total_tests"], 6);
    assert_eq!(summary["open_remediations"], 2, "B's gap and C's plan");

    // Filters: a tactic narrows techniques and tests; a platform the tests' own platform.
    let persistence = get(&app, viewer, "/api/v1/metrics/summary?tactic=TA0003").await;
    assert_eq!(persistence["techniques"]["total"], 1);
    assert_eq!(persistence["techniques"]["partial"], 1);
    assert_eq!(persistence["total_tests"], 1);
    let linux = get(&app, viewer, "/api/v1/metrics/summary?platform=Linux").await;
    assert_eq!(linux["techniques"]["total"], 3, "T1059, T1059.004, T1053");
    assert_eq!(linux["total_tests"], 1, "only E ran on linux");
    let future = get(&app, viewer, "/api/v1/metrics/summary?date_from=2999-01-01").await;
    assert_eq!(future["total_tests"], 0);
    assert_eq!(
        future["techniques"]["total"], 5,
        "coverage does not depend on dates"
    );

    // By tactic, in matrix order.
    let tactics = get(&app, viewer, "/api/v1/tactics").await;
    let order: Vec<&str> = tactics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["shortname"].as_str().unwrap())
        .collect();
    let by_tactic = get(&app, viewer, "/api/v1/metrics/by-tactic").await;
    let got: Vec<&str> = by_tactic
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tactic"].as_str().unwrap())
        .collect();
    assert_eq!(got, order);
    let find = |name: &str| {
        by_tactic
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tactic"] == name)
            .unwrap()
            .clone()
    };
    let execution = find("execution");
    assert_eq!(
        execution["techniques"],
        json!({"total": 4, "validated": 1, "partial": 1, "in_progress": 2, "not_covered": 0})
    );
    assert_eq!(execution["coverage_percent"], 25.0);
    assert_eq!(execution["total_tests"], 6);
    assert_eq!(
        states(&execution["tests_by_state"]),
        expected_states([1, 1, 1, 0, 2, 1])
    );
    let persistence = find("persistence");
    assert_eq!(persistence["techniques"]["partial"], 1);
    assert_eq!(persistence["total_tests"], 1);
    let recon = find("reconnaissance");
    assert_eq!(recon["techniques"]["not_covered"], 1);
    assert_eq!(recon["total_tests"], 0);

    // The funnel: how many got at least this far (a rejected test went through review).
    let pipeline = get(&app, viewer, "/api/v1/metrics/test-pipeline").await;
    let reached: Vec<u64> = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reached"].as_u64().unwrap())
        .collect();
    assert_eq!(reached, vec![6, 5, 4, 3, 2]);
    assert_eq!(pipeline["rejected"], 1);
    assert_eq!(pipeline["total"], 6);

    // Activity today: four red submissions, three blue, one evidence file per side.
    let activity = get(&app, viewer, "/api/v1/metrics/team-activity").await;
    assert_eq!(activity["granularity"], "day");
    assert_eq!(activity["series"].as_array().unwrap().len(), 30);
    assert_eq!(
        activity["totals"],
        json!({"red_executions": 4, "blue_evaluations": 3, "red_evidence_uploads": 1, "blue_evidence_uploads": 1})
    );
    let today = activity["series"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(today["red_executions"], 4);
    assert_eq!(today["blue_evaluations"], 3);
    let users = activity["by_user"].as_array().unwrap();
    let red = users
        .iter()
        .find(|u| u["user_id"] == s.crew.red_tech_id.as_str())
        .unwrap();
    assert_eq!(red["red_executions"], 4);
    assert_eq!(red["red_evidence_uploads"], 1);
    assert_eq!(red["role"], "red_tech");
    let blue = users
        .iter()
        .find(|u| u["user_id"] == s.crew.blue_tech_id.as_str())
        .unwrap();
    assert_eq!(blue["blue_evaluations"], 3);
    assert_eq!(blue["blue_evidence_uploads"], 1);
    let weekly = get(
        &app,
        viewer,
        "/api/v1/metrics/team-activity?granularity=week&date_from=2026-01-01&date_to=2026-03-01",
    )
    .await;
    let periods = weekly["series"].as_array().unwrap();
    assert_eq!(periods[0]["period"], "2025-12-29", "weeks start on Monday");
    assert!(
        periods
            .iter()
            .all(|p| p["red_executions"] == 0 && p["blue_evaluations"] == 0)
    );

    // Votes per lead and side.
    let rates = get(&app, viewer, "/api/v1/metrics/validation-rate").await;
    let leads = rates["by_lead"].as_array().unwrap();
    assert_eq!(leads.len(), 2, "{rates}");
    let red_lead = leads
        .iter()
        .find(|l| l["user_id"] == s.crew.red_lead_id.as_str())
        .unwrap();
    assert_eq!(red_lead["side"], "red");
    assert_eq!(red_lead["approved"], 3);
    assert_eq!(red_lead["rejected"], 0);
    assert_eq!(red_lead["approval_rate"], 100.0);
    let blue_lead = leads
        .iter()
        .find(|l| l["user_id"] == s.crew.blue_lead_id.as_str())
        .unwrap();
    assert_eq!(blue_lead["approved"], 2);
    assert_eq!(blue_lead["rejected"], 1);
    assert_eq!(blue_lead["approval_rate"], 66.7);
    assert_eq!(
        rates["by_side"],
        json!([
            {"side": "red", "approved": 3, "rejected": 0, "approval_rate": 100.0},
            {"side": "blue", "approved": 2, "rejected": 1, "approval_rate": 66.7}
        ])
    );

    // The last updated first: F moved last.
    let recent = get(&app, viewer, "/api/v1/metrics/recent-tests").await;
    let recent = recent.as_array().unwrap();
    assert_eq!(recent.len(), 6);
    assert_eq!(recent[0]["title"], "Interpreter again");
    assert_eq!(recent[0]["state"], "blue_evaluating");

    // Bad filters are refused clearly.
    let (code, body) = status_of(&app, viewer, "/api/v1/metrics/summary?tactic=nope").await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = status_of(
        &app,
        viewer,
        "/api/v1/metrics/team-activity?date_from=2026-05-01&date_to=2026-04-01",
    )
    .await;
    assert_eq!(code, 422);
    assert!(body["fields"]["date_to"].is_string(), "{body}");
    let (code, body) = status_of(&app, viewer, "/api/v1/metrics/summary?date_from=yesterday").await;
    assert_eq!(code, 422);
    assert!(body["fields"]["date_from"].is_string(), "{body}");
    let (code, _) = status_of(
        &app,
        viewer,
        "/api/v1/metrics/team-activity?granularity=hour",
    )
    .await;
    assert_eq!(code, 422);
    let anonymous = app
        .request(Method::GET, "/api/v1/metrics/summary", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated record");
    records
}

async fn csv(app: &TestApp, token: &str, path: &str) -> Vec<Vec<String>> {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"aegis-"),
        "{disposition}"
    );
    parse_csv(&response.text().await.unwrap())
}

fn column(records: &[Vec<String>], name: &str) -> usize {
    records[0].iter().position(|h| h == name).unwrap()
}

async fn reports_match_the_scenario_and_csv_parses_back(app: TestApp) -> TestApp {
    let s = seed(&app).await;
    let viewer = &s.crew.viewer;

    let coverage = get(&app, viewer, "/api/v1/reports/coverage-summary").await;
    assert_eq!(
        coverage["totals"],
        json!({"total": 5, "validated": 1, "partial": 1, "in_progress": 2, "not_covered": 1})
    );
    let rows = coverage["techniques"].as_array().unwrap();
    let row = |id: &str| rows.iter().find(|r| r["mitre_id"] == id).unwrap().clone();
    let t1059 = row("T1059");
    assert_eq!(
        (
            &t1059["tests_total"],
            &t1059["tests_validated"],
            &t1059["tests_rejected"],
            &t1059["tests_active"]
        ),
        (&json!(2), &json!(0), &json!(1), &json!(1))
    );
    assert!(t1059["last_validated_at"].is_null());
    let powershell = row("T1059.001");
    assert_eq!(powershell["coverage_status"], "validated");
    assert!(powershell["last_validated_at"].is_string());
    assert_eq!(row("T1595")["tests_total"], 0);
    let linux = get(
        &app,
        viewer,
        "/api/v1/reports/coverage-summary?platform=linux",
    )
    .await;
    assert_eq!(linux["techniques"].as_array().unwrap().len(), 3);
    let persistence = get(
        &app,
        viewer,
        "/api/v1/reports/coverage-summary?tactic=persistence",
    )
    .await;
    assert_eq!(persistence["totals"]["total"], 1);

    let coverage_csv = csv(&app, viewer, "/api/v1/reports/coverage-csv").await;
    assert_eq!(coverage_csv.len(), 6, "header and five techniques");
    assert_eq!(coverage_csv[0][0], "technique_id");
    let status = column(&coverage_csv, "coverage_status");
    let powershell_row = coverage_csv.iter().find(|r| r[0] == "T1059.001").unwrap();
    assert_eq!(powershell_row[status], "validated");

    // Test results: every test, quoting and the injection guard survive a round trip.
    let results = csv(&app, viewer, "/api/v1/reports/test-results?format=csv").await;
    assert_eq!(results.len(), 7, "header and six tests");
    let title = column(&results, "title");
    let alert = column(&results, "alert_name");
    let evidence = column(&results, "evidence_count");
    let ttd = column(&results, "time_to_detect_seconds");
    let a = results.iter().find(|r| r[0] == s.a).unwrap();
    assert_eq!(a[title], format!("'{EVIL_TITLE}"), "formula defused");
    assert_eq!(a[alert], TRICKY_ALERT);
    assert_eq!(a[evidence], "2");
    assert_eq!(a[ttd], "42");
    assert_eq!(a[column(&results, "red_validated_by")], "redlead_user");
    let json_results = get(&app, viewer, "/api/v1/reports/test-results?state=validated").await;
    assert_eq!(json_results["total"], 2);
    assert_eq!(json_results["report"], "test-results");
    let items = json_results["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let a_json = items.iter().find(|i| i["id"] == s.a.as_str()).unwrap();
    assert_eq!(a_json["title"], EVIL_TITLE, "JSON keeps the text as it is");
    assert_eq!(a_json["red_validation_status"], "approved");
    assert_eq!(a_json["evidence_count"], 2);
    let none = get(
        &app,
        viewer,
        "/api/v1/reports/test-results?date_from=2999-01-01",
    )
    .await;
    assert_eq!(none["total"], 0);
    let limited = get(&app, viewer, "/api/v1/reports/test-results?limit=2").await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 2);
    let (code, body) = status_of(&app, viewer, "/api/v1/reports/test-results?format=xml").await;
    assert_eq!(code, 422);
    assert!(body["fields"]["format"].is_string());
    let (code, _) = status_of(&app, viewer, "/api/v1/reports/test-results?state=done").await;
    assert_eq!(code, 422);

    // Remediation: B's open gap and C's overdue plan.
    let remediation = get(&app, viewer, "/api/v1/reports/remediation-status").await;
    assert_eq!(remediation["total"], 2, "{remediation}");
    let in_progress = get(
        &app,
        viewer,
        "/api/v1/reports/remediation-status?status=in_progress",
    )
    .await;
    let items = in_progress["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["test_id"], s.c.as_str());
    assert_eq!(items[0]["overdue"], true);
    assert_eq!(items[0]["steps_total"], 2);
    assert_eq!(items[0]["steps_done"], 1);
    assert_eq!(items[0]["owner"], "bluelead_user");
    let remediation_csv = csv(
        &app,
        viewer,
        "/api/v1/reports/remediation-status?format=csv&status=in_progress",
    )
    .await;
    assert_eq!(remediation_csv.len(), 2);
    assert_eq!(
        remediation_csv[1][column(&remediation_csv, "overdue")],
        "true"
    );
    let (code, _) = status_of(
        &app,
        viewer,
        "/api/v1/reports/remediation-status?status=later",
    )
    .await;
    assert_eq!(code, 422);
    app
}

/// The checks the ATT&CK Navigator makes of a 4.5 layer, as far as we fill it.
fn assert_navigator_layer(layer: &Value) {
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert!(layer["versions"]["attack"].is_string());
    assert!(layer["versions"]["navigator"].is_string());
    assert_eq!(layer["domain"], "enterprise-attack");
    assert!(layer["name"].is_string());
    assert!(layer["description"].is_string());
    assert!(layer["filters"]["platforms"].is_array());
    assert!(layer["layout"]["layout"].is_string());
    assert!(layer["gradient"]["colors"].as_array().unwrap().len() >= 2);
    assert!(layer["gradient"]["minValue"].is_number());
    assert!(layer["gradient"]["maxValue"].is_number());
    for item in layer["legendItems"].as_array().unwrap() {
        assert!(item["label"].is_string() && item["color"].is_string());
    }
    for t in layer["techniques"].as_array().unwrap() {
        let id = t["techniqueID"].as_str().unwrap();
        assert!(id.starts_with('T'), "{id}");
        assert!(t["tactic"].is_string());
        assert!(t["score"].is_number());
        assert!(t["color"].as_str().unwrap().starts_with('#'));
        assert!(t["comment"].is_string());
        assert!(t["enabled"].is_boolean());
        for m in t["metadata"].as_array().unwrap() {
            assert!(m["name"].is_string() && m["value"].is_string());
        }
    }
}

async fn import(app: &TestApp, token: &str, query: &str, layer: &Value) -> (u16, Value) {
    let response = app
        .post_json(
            &format!("/api/v1/reports/navigator-layer{query}"),
            token,
            layer.clone(),
        )
        .await;
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

async fn navigator_layers_export_import_and_filter(app: TestApp) -> TestApp {
    let s = seed(&app).await;
    let crew = &s.crew;
    let response = app
        .get("/api/v1/reports/navigator-layer", &crew.viewer)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".json")
    );
    let layer: Value = response.json().await.unwrap();
    assert_navigator_layer(&layer);
    let entries = layer["techniques"].as_array().unwrap();
    // T1053 sits under two tactics: one entry each.
    let t1053: Vec<&Value> = entries
        .iter()
        .filter(|t| t["techniqueID"] == "T1053")
        .collect();
    assert_eq!(t1053.len(), 2);
    assert!(t1053.iter().all(|t| t["score"] == 50));
    let validated = entries
        .iter()
        .find(|t| t["techniqueID"] == "T1059.001")
        .unwrap();
    assert_eq!(validated["score"], 100);
    assert_eq!(validated["tactic"], "execution");
    assert_eq!(layer["legendItems"].as_array().unwrap().len(), 4);
    assert_eq!(entries.len(), 6, "five techniques, T1053 twice");

    // A threat-intel layer: merged per technique, unknown ids kept and reported.
    let intel = json!({
        "name": "Intel priorities",
        "versions": {"layer": "4.5", "attack": "18", "navigator": "5.1.0"},
        "domain": "enterprise-attack",
        "techniques": [
            {"techniqueID": "T1059.001", "tactic": "execution", "score": 90, "comment": "APT wave"},
            {"techniqueID": "T1053", "tactic": "persistence", "score": 70},
            {"techniqueID": "T9999", "score": 10},
            {"techniqueID": "not-an-id"}
        ]
    });
    let (code, body) = import(&app, &crew.viewer, "", &intel).await;
    assert_eq!(code, 403, "{body}");
    let (code, report) = import(&app, &crew.red_lead, "", &intel).await;
    assert_eq!(code, 201, "{report}");
    assert_eq!(report["set"]["name"], "Intel priorities");
    assert_eq!(report["imported"], 3);
    assert_eq!(report["replaced"], false);
    assert_eq!(report["unknown_techniques"], json!(["T9999"]));
    assert_eq!(report["skipped"].as_array().unwrap().len(), 1);
    let (code, again) = import(&app, &crew.blue_lead, "", &intel).await;
    assert_eq!(code, 200);
    assert_eq!(again["replaced"], true);
    assert_eq!(again["set"]["id"], report["set"]["id"]);

    // The set filters the reports, the metrics and the matrix.
    let filtered = get(
        &app,
        &crew.viewer,
        "/api/v1/reports/coverage-summary?technique_set=Intel%20priorities",
    )
    .await;
    let ids: Vec<&str> = filtered["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["mitre_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["T1053", "T1059.001"]);
    let set_id = report["set"]["id"].as_str().unwrap();
    let summary = get(
        &app,
        &crew.viewer,
        &format!("/api/v1/metrics/summary?technique_set={set_id}"),
    )
    .await;
    assert_eq!(summary["techniques"]["total"], 2);
    assert_eq!(summary["total_tests"], 2, "A and C");
    let matrix = get(
        &app,
        &crew.viewer,
        &format!("/api/v1/techniques?technique_set={set_id}"),
    )
    .await;
    assert_eq!(matrix.as_array().unwrap().len(), 2);
    let detail = get(
        &app,
        &crew.viewer,
        &format!("/api/v1/technique-sets/{set_id}"),
    )
    .await;
    let items = detail["techniques"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let unknown = items.iter().find(|i| i["technique_id"] == "T9999").unwrap();
    assert_eq!(unknown["known"], false);
    let t1059 = items
        .iter()
        .find(|i| i["technique_id"] == "T1059.001")
        .unwrap();
    assert_eq!(t1059["score"], 90.0);
    assert_eq!(t1059["comment"], "APT wave");

    // Our own export round-trips into a set of exactly the exported techniques.
    let (code, roundtrip) = import(&app, &crew.admin, "?name=Coverage%20snapshot", &layer).await;
    assert_eq!(code, 201, "{roundtrip}");
    assert_eq!(roundtrip["imported"], 5);
    assert!(
        roundtrip["unknown_techniques"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let snapshot = get(
        &app,
        &crew.viewer,
        "/api/v1/technique-sets/Coverage%20snapshot",
    )
    .await;
    let scores: Vec<(String, f64)> = snapshot["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["technique_id"].as_str().unwrap().to_owned(),
                t["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(scores.contains(&("T1059.001".to_owned(), 100.0)));
    assert!(scores.contains(&("T1053".to_owned(), 50.0)));
    assert!(scores.contains(&("T1595".to_owned(), 0.0)));
    let sets = get(&app, &crew.viewer, "/api/v1/technique-sets").await;
    assert_eq!(sets.as_array().unwrap().len(), 2);

    // Wrong files are refused whole, with the reason.
    let (code, body) = import(&app, &crew.admin, "", &json!([1, 2, 3])).await;
    assert_eq!(code, 422, "{body}");
    let (code, body) = import(
        &app,
        &crew.admin,
        "",
        &json!({"name": "m", "domain": "mobile-attack", "techniques": [{"techniqueID": "T1059"}]}),
    )
    .await;
    assert_eq!(code, 422);
    assert!(body["fields"]["domain"].is_string(), "{body}");
    let (code, body) = import(
        &app,
        &crew.admin,
        "",
        &json!({"techniques": [{"techniqueID": "T1059"}]}),
    )
    .await;
    assert_eq!(code, 422);
    assert!(body["fields"]["name"].is_string(), "{body}");
    let (code, _) = import(
        &app,
        &crew.admin,
        "?name=empty",
        &json!({"techniques": [{"techniqueID": "junk"}]}),
    )
    .await;
    assert_eq!(code, 422);
    let raw = app
        .request(
            Method::POST,
            "/api/v1/reports/navigator-layer",
            Some(&crew.admin),
        )
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);

    // Deleting: leads and admins only; the name no longer filters anything.
    assert_eq!(
        app.delete(&format!("/api/v1/technique-sets/{set_id}"), &crew.red_tech)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.delete(&format!("/api/v1/technique-sets/{set_id}"), &crew.blue_lead)
            .await
            .status(),
        204
    );
    let (code, _) = status_of(
        &app,
        &crew.viewer,
        &format!("/api/v1/reports/coverage-summary?technique_set={set_id}"),
    )
    .await;
    assert_eq!(code, 400);
    let audit = get(
        &app,
        &crew.admin,
        "/api/v1/audit-logs?entity_type=technique_set",
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"technique_set.import"));
    assert!(actions.contains(&"technique_set.delete"));
    app
}

/// The generator's data, read back through the metrics, agrees with plain counts of its rows.
async fn generated_data_adds_up_in_the_metrics(app: TestApp) -> TestApp {
    use app::server::entities::{audit_log, security_test, technique};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(
            &admin,
            "bundle.json",
            crate::workflow::BUNDLE.as_bytes().to_vec()
        )
        .await
        .status(),
        200
    );
    let db = app.database().await;
    let options = server::seed::SeedOptions {
        tests: 400,
        audit: 6_000,
        days: 40,
        seed: 7,
        password: "seed-test-password".into(),
        progress: false,
    };
    let report = server::seed::seed(&db, &options).await.unwrap();
    assert_eq!(report.tests, 400);
    assert!(audit_log::Entity::find().count(&db).await.unwrap() >= 6_000);
    let again = server::seed::seed(&db, &options).await;
    assert!(again.is_err(), "seeding twice with one seed is refused");

    let summary = get(&app, &admin, "/api/v1/metrics/summary").await;
    assert_eq!(summary["total_tests"], 400);
    for state in [
        "draft",
        "red_executing",
        "blue_evaluating",
        "in_review",
        "validated",
        "rejected",
    ] {
        let rows = security_test::Entity::find()
            .filter(security_test::Column::State.eq(state))
            .count(&db)
            .await
            .unwrap();
        let reported = summary["tests_by_state"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["state"] == state)
            .unwrap()["count"]
            .as_u64()
            .unwrap();
        assert_eq!(reported, rows, "{state}");
        assert!(rows > 0, "the generator leaves tests in {state}");
    }
    let validated = technique::Entity::find()
        .filter(technique::Column::CoverageStatus.eq("validated"))
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(summary["techniques"]["validated"], validated);

    // Every vote in the generated period shows in the validation rates.
    let votes = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("test.vote"))
        .count(&db)
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(60);
    let range = format!("date_from={from}&date_to={today}");
    let rates = get(
        &app,
        &admin,
        &format!("/api/v1/metrics/validation-rate?{range}"),
    )
    .await;
    let counted: u64 = rates["by_side"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["approved"].as_u64().unwrap() + s["rejected"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, votes);
    let activity = get(
        &app,
        &admin,
        &format!("/api/v1/metrics/team-activity?granularity=week&{range}"),
    )
    .await;
    let weekly: u64 = activity["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["red_executions"].as_u64().unwrap())
        .sum();
    assert_eq!(
        weekly,
        activity["totals"]["red_executions"].as_u64().unwrap()
    );
    assert!(weekly > 0);
    let csv = csv(&app, &admin, "/api/v1/reports/test-results?format=csv").await;
    assert_eq!(csv.len(), 401);

    // The counts kept as entries are written equal those migration 9 derives from the audit
    // log for a database that had entries before it, and the test counters built at start for
    // a database from before migration 10 equal a recount: undo both, migrate, compare.
    let kept = activity_counts(&db).await;
    assert!(kept.len() > 100, "the generator's activity is counted");
    use app::server::workflow::tallies;
    let recounted = tallies::recount(&db).await.unwrap();
    assert_eq!(
        tallies::stored(&db).await.unwrap(),
        recounted,
        "the seeder's rebuild"
    );
    use migration::MigratorTrait;
    migration::Migrator::down(&db, Some(2)).await.unwrap();
    app::server::platform::db::migrate(&db).await.unwrap();
    assert_eq!(activity_counts(&db).await, kept);
    assert_eq!(
        tallies::stored(&db).await.unwrap(),
        recounted,
        "counted at start"
    );
    app
}

/// Every row of `activity_counts`, as text, sorted.
async fn activity_counts(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT day, kind, actor_id, actor_username, count FROM activity_counts",
        ))
        .await
        .unwrap();
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            let day: chrono::NaiveDate = r.try_get_by_index(0).unwrap();
            let kind: String = r.try_get_by_index(1).unwrap();
            let actor: uuid::Uuid = r.try_get_by_index(2).unwrap();
            let username: Option<String> = r.try_get_by_index(3).unwrap();
            let n: i64 = r.try_get_by_index(4).unwrap();
            format!("{day} {kind} {actor} {username:?} {n}")
        })
        .collect();
    out.sort();
    out
}
