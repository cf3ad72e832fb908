//! The scoring engine, data-source visibility and compliance through the API, on a
//! hand-computed scenario over the ATT&CK fixture (five active techniques; APT1 uses
//! T1059.001 and T1053, FIN7 T1059): scores with each factor's points, priority,
//! the summary and its risk gap, a weight change, versioned configurations with restore and
//! preview, the recompute job aging a validation, the heatmap layer; the data-component
//! inventory from both ATT&CK forms (v18 detection strategies, older `detects`); a compliance
//! mapping imported with its caveats (padding, duplicates, non-mappable rows, a revoked and an
//! unknown technique) and its figures, control evidence and CSV.
use crate::common::{TestApp, json_body, wait_for_run};
use crate::on_both_backends;
use crate::workflow::{BUNDLE, Crew, act, create_test, patch, vote};
use serde_json::{Value, json};

on_both_backends!(
    scores_follow_tests_weights_and_time,
    compliance_mapping_and_figures
);

/// The fixture with ATT&CK ids on its data component (DC0064, reached through a v18 detection
/// strategy), an older-style component (DC0001 `detects` T1053) and T1099 revoked by T1053.
pub fn extended_bundle() -> Vec<u8> {
    let mut bundle: Value = serde_json::from_str(BUNDLE).unwrap();
    let objects = bundle["objects"].as_array_mut().unwrap();
    for o in objects.iter_mut() {
        if o["id"] == "x-mitre-data-component--cmd" {
            o["external_references"] = json!([{
                "source_name": "mitre-attack", "external_id": "DC0064",
                "url": "https://attack.mitre.org/datacomponents/DC0064"
            }]);
        }
    }
    objects.push(json!({
        "type": "x-mitre-data-component", "id": "x-mitre-data-component--sched",
        "spec_version": "2.1", "name": "Scheduled Job Creation",
        "description": "New scheduled jobs.",
        "x_mitre_data_source_ref": "x-mitre-data-source--job",
        "external_references": [{"source_name": "mitre-attack", "external_id": "DC0001"}]
    }));
    objects.push(json!({
        "type": "x-mitre-data-source", "id": "x-mitre-data-source--job",
        "spec_version": "2.1", "name": "Scheduled Job",
        "external_references": [{"source_name": "mitre-attack", "external_id": "DS0003"}]
    }));
    objects.push(json!({
        "type": "relationship", "id": "relationship--sched-detects", "spec_version": "2.1",
        "relationship_type": "detects",
        "source_ref": "x-mitre-data-component--sched", "target_ref": "attack-pattern--t1053"
    }));
    objects.push(json!({
        "type": "relationship", "id": "relationship--t1099-revoked", "spec_version": "2.1",
        "relationship_type": "revoked-by",
        "source_ref": "attack-pattern--t1099", "target_ref": "attack-pattern--t1053"
    }));
    serde_json::to_vec(&bundle).unwrap()
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = match method {
        "POST" => app.post_json(path, token, body).await,
        "PATCH" => app.patch_json(path, token, body).await,
        "PUT" => app
            .request(reqwest::Method::PUT, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap(),
        _ => app.get(path, token).await,
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A validated test of `technique` on `platform` (detected, alert fired, 60 s to detect).
pub async fn validated(app: &TestApp, crew: &Crew, technique: &str, platform: &str) -> String {
    let test = create_test(
        app,
        &crew.red_lead,
        json!({"title": format!("Exercise {technique}"), "technique_id": technique, "platform": platform}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    act(app, &crew.red_tech, &id, "start-execution", 200).await;
    act(app, &crew.red_tech, &id, "submit-red", 200).await;
    patch(
        app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": "detected", "alert_fired": true, "time_to_detect_seconds": 60}),
        200,
    )
    .await;
    act(app, &crew.blue_tech, &id, "submit-blue", 200).await;
    vote(app, &crew.red_lead, &id, "red", "approved", 200).await;
    vote(app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    id
}

async fn scores(app: &TestApp, token: &str) -> std::collections::HashMap<String, Value> {
    let (status, page) = call(
        app,
        "GET",
        "/api/v1/scoring/techniques?limit=500",
        token,
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["mitre_id"].as_str().unwrap().to_owned(), t.clone()))
        .collect()
}

fn points(technique: &Value, factor: &str) -> f64 {
    technique["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factor"] == factor)
        .unwrap_or_else(|| panic!("no {factor} in {technique}"))["points"]
        .as_f64()
        .unwrap()
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap_or(f64::NAN) - b).abs() < 0.051
}

async fn run_job(app: &TestApp, token: &str, job: &str) -> Value {
    let response = app
        .post(&format!("/api/v1/system/jobs/{job}/run"), token)
        .await;
    assert_eq!(response.status(), 202);
    let enqueued = json_body(response).await;
    wait_for_run(app, token, enqueued["job_id"].as_str().unwrap()).await
}

async fn scores_follow_tests_weights_and_time(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let response = app
        .import_bundle(&crew.admin, "extended.json", extended_bundle())
        .await;
    assert_eq!(response.status(), 200);
    let report = json_body(response).await;
    assert_eq!(report["data_components_added"], 2, "{report}");
    assert_eq!(report["data_component_links"], 2, "{report}");

    // The inventory: both forms of ATT&CK's links.
    let (status, inventory) = call(
        &app,
        "GET",
        "/api/v1/data-sources",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    let items = inventory["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{inventory}");
    let sched = items.iter().find(|c| c["mitre_id"] == "DC0001").unwrap();
    assert_eq!(sched["data_source"], "Scheduled Job");
    assert_eq!(sched["techniques"], 1);
    assert_eq!(inventory["collected"], 0);
    assert_eq!(inventory["techniques_with_components"], 2);

    // Nothing tested: every score is 0; one actor each is 100·(50/75)·ln2/ln11 of priority.
    let s = scores(&app, &crew.viewer).await;
    assert_eq!(s.len(), 5, "active techniques only");
    let one_actor = 100.0 * (50.0 / 75.0) * (2f64.ln() / 11f64.ln());
    for id in ["T1059", "T1059.001", "T1053"] {
        assert!(close(&s[id]["priority"], one_actor), "{id}: {}", s[id]);
        assert_eq!(s[id]["score"], 0.0);
    }
    // FIN7's use of T1595 is a revoked relationship in the fixture.
    assert_eq!(s["T1595"]["priority"], 0.0);
    assert_eq!(s["T1059.004"]["priority"], 0.0);
    assert_eq!(
        s["T1059"]["factors"].as_array().unwrap().len(),
        5,
        "no data component: no visibility factor"
    );
    assert_eq!(s["T1059.001"]["visibility"], 0.0);

    // A fresh detection on T1059.001's one platform: 30 + 25 + 15 + 10 of 100 (no rule, no
    // visibility yet).
    let test = validated(&app, &crew, "T1059.001", "Windows").await;
    let s = scores(&app, &crew.viewer).await;
    let t = &s["T1059.001"];
    assert!(close(&t["score"], 80.0), "{t}");
    assert!(close(&json!(points(t, "coverage")), 30.0));
    assert!(close(&json!(points(t, "quality")), 25.0));
    assert!(close(&json!(points(t, "recency")), 15.0));
    assert!(close(&json!(points(t, "breadth")), 10.0));
    assert_eq!(points(t, "rules"), 0.0);
    assert_eq!(points(t, "visibility"), 0.0);
    assert_eq!(t["stale"], false);

    // Collecting the data: the blue team marks it; others may not; bad input is refused.
    for token in [&crew.viewer, &crew.red_tech, &crew.red_lead] {
        let (status, _) = call(
            &app,
            "PATCH",
            "/api/v1/data-sources/DC0064",
            token,
            json!({"collected": true}),
        )
        .await;
        assert_eq!(status, 403);
    }
    for (body, code) in [
        (json!({"quality": "superb"}), 422),
        (json!({"colected": true}), 422),
        (json!({}), 400),
        (json!({"notes": "x".repeat(2001)}), 422),
    ] {
        let (status, answer) = call(
            &app,
            "PATCH",
            "/api/v1/data-sources/DC0064",
            &crew.blue_tech,
            body.clone(),
        )
        .await;
        assert_eq!(status, code, "{body}: {answer}");
        assert!(answer["detail"].is_string());
    }
    let (status, _) = call(
        &app,
        "PATCH",
        "/api/v1/data-sources/DC9999",
        &crew.blue_tech,
        json!({"collected": true}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, dc) = call(
        &app,
        "PATCH",
        "/api/v1/data-sources/DC0064",
        &crew.blue_tech,
        json!({"collected": true, "quality": "high", "notes": "Sysmon 1 on every host"}),
    )
    .await;
    assert_eq!(status, 200, "{dc}");
    assert_eq!(dc["collected"], true);
    assert_eq!(dc["updated_by"], "bluetech_user");
    let (status, _) = call(
        &app,
        "PATCH",
        "/api/v1/data-sources/DC0001",
        &crew.blue_lead,
        json!({"collected": true, "quality": "medium"}),
    )
    .await;
    assert_eq!(status, 200);
    let s = scores(&app, &crew.viewer).await;
    assert!(close(&s["T1059.001"]["score"], 90.0), "{}", s["T1059.001"]);
    assert_eq!(s["T1059.001"]["visibility"], 100.0);
    // T1053: only visibility, two thirds of its 10.
    assert!(close(&s["T1053"]["score"], 6.7), "{}", s["T1053"]);
    assert!(close(&s["T1053"]["visibility"], 66.7));
    let (_, inventory) = call(
        &app,
        "GET",
        "/api/v1/data-sources?collected=true",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(inventory["items"].as_array().unwrap().len(), 2);
    assert!(close(&inventory["mean_visibility"], 83.3), "{inventory}");

    // The summary: the mean weighted by priority, per tactic, and the risk gap ranked.
    let (status, summary) = call(
        &app,
        "GET",
        "/api/v1/scoring/summary",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        close(&summary["overall"], (90.0 + 20.0 / 3.0) / 3.0),
        "{summary}"
    );
    assert_eq!(summary["techniques"], 5);
    let gap: Vec<&str> = summary["risk_gap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["mitre_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        gap,
        ["T1059", "T1053", "T1059.001"],
        "no gap without priority"
    );
    assert!(close(&summary["risk_gap"][2]["gap"], one_actor * 0.1));
    let execution = summary["by_tactic"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tactic"] == "execution")
        .unwrap();
    assert!(
        execution["techniques"].as_u64().unwrap() >= 3,
        "{execution}"
    );
    let (status, page) = call(
        &app,
        "GET",
        "/api/v1/scoring/techniques?sort=gap&limit=2",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"][0]["mitre_id"], "T1059");
    for bad in ["sort=best", "tactic=nowhere", "limit=0", "colour=red"] {
        let (status, body) = call(
            &app,
            "GET",
            &format!("/api/v1/scoring/techniques?{bad}"),
            &crew.viewer,
            json!(null),
        )
        .await;
        assert!(status == 422 || status == 400, "{bad}: {status} {body}");
    }

    // The configuration: admins only, every field checked, nothing saved on a refusal.
    let (status, config) = call(
        &app,
        "GET",
        "/api/v1/scoring/config",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(config["version"], 0);
    assert_eq!(config["config"]["weights"]["coverage"], 30.0);
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/scoring/config",
        &crew.red_lead,
        json!({"half_life_days": 30}),
    )
    .await;
    assert_eq!(status, 403);
    for (body, field) in [
        (
            json!({"weights": {"coverage": 30, "quality": -1, "recency": 15, "breadth": 10, "rules": 10, "visibility": 10}}),
            "weights.quality",
        ),
        (json!({"half_life_days": 0}), "half_life_days"),
        (json!({"relevant_actors": ["G9999"]}), "relevant_actors"),
        (json!({"relevant_actors": ["APT1"]}), "relevant_actors"),
        (
            json!({"priority_sets": ["00000000-0000-0000-0000-000000000001"]}),
            "priority_sets",
        ),
        (json!({"note": "x".repeat(501)}), "note"),
    ] {
        let (status, answer) = call(
            &app,
            "PUT",
            "/api/v1/scoring/config",
            &crew.admin,
            body.clone(),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/scoring/config",
        &crew.admin,
        json!({"halflife": 3}),
    )
    .await;
    assert!(status == 422 || status == 400);

    // Preview a weight change, without saving it.
    let coverage_only = json!({"weights": {"coverage": 100, "quality": 0, "recency": 0, "breadth": 0, "rules": 0, "visibility": 0}});
    let (status, preview) = call(
        &app,
        "POST",
        "/api/v1/scoring/preview",
        &crew.admin,
        coverage_only.clone(),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert!(close(
        &preview["current"]["overall"],
        (90.0 + 20.0 / 3.0) / 3.0
    ));
    assert!(
        close(&preview["preview"]["overall"], 100.0 / 3.0),
        "{preview}"
    );
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/scoring/preview",
        &crew.viewer,
        coverage_only.clone(),
    )
    .await;
    assert_eq!(status, 403);

    // Save it: every score moves in the same transaction.
    let mut body = coverage_only.clone();
    body["note"] = json!("Coverage only");
    let (status, saved) = call(&app, "PUT", "/api/v1/scoring/config", &crew.admin, body).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["note"], "Coverage only");
    let s = scores(&app, &crew.viewer).await;
    assert_eq!(s["T1059.001"]["score"], 100.0);
    assert_eq!(s["T1053"]["score"], 0.0);
    // Only APT1 is relevant: its two techniques get full actor priority, FIN7's none.
    let mut body = coverage_only.clone();
    body["relevant_actors"] = json!(["G0006"]);
    let (status, saved) = call(&app, "PUT", "/api/v1/scoring/config", &crew.admin, body).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 2);
    let (_, summary) = call(
        &app,
        "GET",
        "/api/v1/scoring/summary",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert!(close(&summary["overall"], 50.0), "{summary}");
    assert_eq!(summary["config_version"], 2);
    let s = scores(&app, &crew.viewer).await;
    assert!(close(&s["T1053"]["priority"], 100.0 * 50.0 / 75.0));
    assert_eq!(s["T1059"]["priority"], 0.0);

    // Restore version 1: a new version with its configuration.
    let (status, restored) = call(
        &app,
        "POST",
        "/api/v1/scoring/config/restore/1",
        &crew.admin,
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["version"], 3);
    assert_eq!(restored["config"]["relevant_actors"], json!([]));
    assert_eq!(restored["note"], "Restored version 1");
    assert_eq!(restored["history"].as_array().unwrap().len(), 3);
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/scoring/config/restore/99",
        &crew.admin,
        json!(null),
    )
    .await;
    assert_eq!(status, 404);
    let (_, summary) = call(
        &app,
        "GET",
        "/api/v1/scoring/summary",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert!(close(&summary["overall"], 100.0 / 3.0), "{summary}");
    let (_, audit) = call(
        &app,
        "GET",
        "/api/v1/audit-logs?action=scoring.config_restore",
        &crew.admin,
        json!(null),
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    let (_, audit) = call(
        &app,
        "GET",
        "/api/v1/audit-logs?action=data_component.update",
        &crew.admin,
        json!(null),
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 2);

    // Back to the defaults, then time passes: the validation is 400 days old, the daily job
    // ages it (recency 0.5^(400/180)) and the technique is stale.
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/scoring/config",
        &crew.admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    {
        use app::server::entities::security_test;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let db = app.database().await;
        let moved = security_test::Entity::update_many()
            .col_expr(
                security_test::Column::CompletedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(400)),
            )
            .filter(security_test::Column::Id.eq(uuid::Uuid::parse_str(&test).unwrap()))
            .exec(&db)
            .await
            .unwrap();
        assert_eq!(moved.rows_affected, 1);
    }
    let run = run_job(&app, &crew.admin, "scoring_recompute").await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["techniques"], 5, "{run}");
    let s = scores(&app, &crew.viewer).await;
    let t = &s["T1059.001"];
    assert_eq!(t["stale"], true, "{t}");
    let recency = 0.5f64.powf(400.0 / 180.0);
    assert!(close(&json!(points(t, "recency")), 15.0 * recency), "{t}");
    assert!(
        close(&t["score"], 30.0 + 25.0 + 15.0 * recency + 10.0 + 10.0),
        "{t}"
    );
    let (_, page) = call(
        &app,
        "GET",
        "/api/v1/scoring/techniques?stale=true",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(page["total"], 1);

    // The weekly snapshot keeps the score; the Navigator layer takes the mode.
    let run = run_job(&app, &crew.admin, "weekly_snapshot").await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let (_, history) = call(
        &app,
        "GET",
        "/api/v1/metrics/coverage-history",
        &crew.viewer,
        json!(null),
    )
    .await;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert!(last["score"].as_f64().unwrap() > 0.0, "{history}");
    let (status, layer) = call(
        &app,
        "GET",
        "/api/v1/reports/navigator-layer?mode=score",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    let entry = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["techniqueID"] == "T1059.001")
        .unwrap();
    assert!(
        close(&entry["score"], t["score"].as_f64().unwrap()),
        "{entry}"
    );
    assert!(
        entry["comment"]
            .as_str()
            .unwrap()
            .contains("Coverage status 30"),
        "{entry}"
    );
    assert_eq!(layer["gradient"]["colors"].as_array().unwrap().len(), 3);
    let (status, layer) = call(
        &app,
        "GET",
        "/api/v1/reports/navigator-layer?mode=gap",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(layer["gradient"]["colors"].as_array().unwrap().len(), 2);
    let (status, layer) = call(
        &app,
        "GET",
        "/api/v1/reports/navigator-layer?mode=visibility",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    let t1059 = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["techniqueID"] == "T1059")
        .unwrap();
    assert!(
        t1059["score"].is_null(),
        "no data component, no visibility: {t1059}"
    );
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/reports/navigator-layer?mode=rainbow",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 422);
    app
}

/// A NIST-style mapping: padded ids, a repeated row, a non-mappable technique, a control only
/// in a non-mappable row, T1099 (revoked by T1053) and a Mobile technique.
pub const MAPPING: &str = r#"{
  "metadata": {"attack_version": "16.1", "technology_domain": "enterprise",
    "mapping_framework": "nist_800_53", "mapping_framework_version": "rev5",
    "capability_groups": {"AC": "Access Control", "CM": "Configuration Management"}},
  "mapping_objects": [
    {"capability_id": "AC-02", "capability_description": "Account Management", "capability_group": "AC",
     "mapping_type": "mitigates", "attack_object_id": "T1059.001", "status": "complete", "comments": "Limit who may run PowerShell."},
    {"capability_id": "AC-02", "capability_description": "Account Management", "capability_group": "AC",
     "mapping_type": "mitigates", "attack_object_id": "T1053", "status": "complete"},
    {"capability_id": "AC-02", "capability_description": "Account Management", "capability_group": "AC",
     "mapping_type": "mitigates", "attack_object_id": "T1053", "status": "complete"},
    {"capability_id": "AC-03", "capability_description": "Access Enforcement", "capability_group": "AC",
     "mapping_type": "mitigates", "attack_object_id": "T1099", "status": "complete"},
    {"capability_id": "CM-07", "capability_description": "Least Functionality", "capability_group": "CM",
     "mapping_type": "mitigates", "attack_object_id": "T1521.003", "status": "complete"},
    {"capability_id": null, "capability_group": null, "mapping_type": null,
     "attack_object_id": "T1595", "status": "non_mappable", "comments": "no mitiigations in att&ck"}
  ]}"#;

async fn import(app: &TestApp, token: &str, bytes: &[u8]) -> Value {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("nist.json"),
    );
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-compliance",
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let enqueued = json_body(response).await;
    wait_for_run(app, token, enqueued["job_id"].as_str().unwrap()).await
}

async fn compliance_mapping_and_figures(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    assert_eq!(
        app.import_bundle(&crew.admin, "extended.json", extended_bundle())
            .await
            .status(),
        200
    );
    let (status, list) = call(
        &app,
        "GET",
        "/api/v1/compliance/frameworks",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([]));

    // Only admins import; a body that is not multipart is refused before any job.
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-compliance",
            Some(&crew.blue_lead),
        )
        .multipart(
            reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(b"{}".to_vec())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/system/import-compliance",
        &crew.admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 415);
    let run = import(
        &app,
        &crew.admin,
        b"{\"metadata\": {}, \"mapping_objects\": []}",
    )
    .await;
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("mapping_framework"),
        "{run}"
    );

    let run = import(&app, &crew.admin, MAPPING.as_bytes()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let report = &run["result"]["report"];
    assert_eq!(report["name"], "NIST SP 800-53");
    assert_eq!(report["rows"], 6);
    assert_eq!(report["controls_added"], 3);
    assert_eq!(report["mappings_added"], 3, "{report}");
    assert_eq!(report["duplicates"], 1);
    assert_eq!(report["non_mappable"], 1);
    assert_eq!(report["revoked_resolved"], json!(["T1099 → T1053"]));
    assert_eq!(report["unknown_techniques"], json!(["T1521.003"]));
    let framework_id = report["framework_id"].as_str().unwrap().to_owned();
    // Again: nothing new, the same framework.
    let again = import(&app, &crew.admin, MAPPING.as_bytes()).await;
    assert_eq!(
        again["result"]["report"]["framework_id"],
        framework_id.as_str()
    );
    assert_eq!(again["result"]["report"]["mappings_added"], 0);
    assert_eq!(again["result"]["report"]["mappings_unchanged"], 3);
    assert_eq!(again["result"]["report"]["controls_unchanged"], 3);

    // One validated detection of T1059.001; T1053 only has visibility (DC0001, medium).
    validated(&app, &crew, "T1059.001", "Windows").await;
    let (status, _) = call(
        &app,
        "PATCH",
        "/api/v1/data-sources/DC0001",
        &crew.blue_lead,
        json!({"collected": true, "quality": "medium"}),
    )
    .await;
    assert_eq!(status, 200);
    // T1059.001: 80 (no visibility collected); T1053: 10 · 2/3.
    let t1059 = 80.0;
    let t1053 = 20.0 / 3.0;

    let (status, detail) = call(
        &app,
        "GET",
        &format!("/api/v1/compliance/frameworks/{framework_id}"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["controls"].as_array().unwrap().len(), 3);
    let control = |id: &str| {
        detail["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control_id"] == id)
            .unwrap()
            .clone()
    };
    let ac2 = control("AC-2");
    assert_eq!(ac2["technique_count"], 2);
    assert_eq!(ac2["validated"], 1);
    assert_eq!(ac2["not_covered"], 1);
    assert_eq!(ac2["coverage_percent"], 50.0);
    assert!(close(&ac2["mean_score"], (t1059 + t1053) / 2.0), "{ac2}");
    let ac3 = control("AC-3");
    assert_eq!(ac3["technique_count"], 1);
    assert_eq!(ac3["coverage_percent"], 0.0);
    assert_eq!(control("CM-7")["technique_count"], 0);
    assert_eq!(
        detail["technique_count"], 2,
        "distinct techniques of the framework: {detail}"
    );
    assert_eq!(detail["coverage_percent"], 50.0);
    let ac = detail["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["family"] == "AC")
        .unwrap();
    assert_eq!(ac["name"], "Access Control");
    assert_eq!(ac["control_count"], 2);
    assert_eq!(ac["technique_count"], 2);
    let (status, by_key) = call(
        &app,
        "GET",
        "/api/v1/compliance/frameworks/nist_800_53",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_key["id"], framework_id.as_str());
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/compliance/frameworks/iso_27001",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 404);
    let (_, list) = call(
        &app,
        "GET",
        "/api/v1/compliance/frameworks",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(list[0]["control_count"], 3);
    assert_eq!(list[0]["coverage_percent"], 50.0);

    // A control: its techniques, what is not covered, and the evidence.
    let id = ac2["id"].as_str().unwrap();
    let (status, control) = call(
        &app,
        "GET",
        &format!("/api/v1/compliance/controls/{id}"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(control["uncovered_techniques"], json!(["T1053"]));
    assert_eq!(control["not_covered"], 1);
    assert_eq!(control["technique_count"], 2);
    assert_eq!(control["techniques"].as_array().unwrap().len(), 2);
    let powershell = control["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["mitre_id"] == "T1059.001")
        .unwrap();
    assert_eq!(powershell["validated_tests"], 1);
    assert_eq!(powershell["evidence"][0]["detection_result"], "detected");
    assert_eq!(powershell["comments"], "Limit who may run PowerShell.");
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/compliance/controls/00000000-0000-0000-0000-000000000000",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/compliance/controls/AC-2",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert!([400, 404, 422].contains(&status), "{status}");

    // The report: JSON, or one CSV row per (control, technique).
    let response = app
        .get(
            &format!("/api/v1/compliance/frameworks/{framework_id}/report?format=csv"),
            &crew.viewer,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("compliance-nist_800_53-rev5")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("control_id,control_name,family,technique_id"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("AC-2,Account Management,AC,T1059.001,")
                && l.contains(",validated,")),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("CM-7,Least Functionality,CM,,")),
        "{csv}"
    );
    let (status, json_report) = call(
        &app,
        "GET",
        &format!("/api/v1/compliance/frameworks/{framework_id}/report"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(json_report["controls"].as_array().unwrap().len(), 3);
    let (status, _) = call(
        &app,
        "GET",
        &format!("/api/v1/compliance/frameworks/{framework_id}/report?format=pdf"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 422);
    app
}
