//! Admin-owned techniques: custom ones (created, edited, never touched by a sync) and the
//! local notes of ATT&CK techniques.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    admins_create_and_edit_custom_techniques,
    a_sync_never_touches_custom_techniques,
);

const FIXTURE: &str = include_str!("../fixtures/attack-mini.json");

async fn import(app: &TestApp, token: &str, bundle: &Value) -> Value {
    let response = app
        .import_bundle(token, "bundle.json", serde_json::to_vec(bundle).unwrap())
        .await;
    assert_eq!(response.status(), 200);
    json_body(response).await
}

fn custom() -> Value {
    json!({
        "mitre_id": "t9001",
        "name": "  Abuse of the in-house deploy tool ",
        "description": "Our *own* technique.",
        "tactics": ["execution"],
        "platforms": ["Linux", "Linux", " "],
        "detection": "Deploy tool audit log",
        "notes": "Seen in the 2026 purple-team exercise"
    })
}

async fn admins_create_and_edit_custom_techniques(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    import(&app, &admin, &serde_json::from_str(FIXTURE).unwrap()).await;

    let response = app.post_json("/api/v1/techniques", &admin, custom()).await;
    assert_eq!(response.status(), 201);
    let created = json_body(response).await;
    assert_eq!(created["mitre_id"], "T9001", "ids are upper-cased");
    assert_eq!(created["name"], "Abuse of the in-house deploy tool");
    assert_eq!(created["is_custom"], true);
    assert_eq!(created["platforms"], json!(["Linux"]));
    assert_eq!(created["coverage_status"], "not_covered");
    assert_eq!(created["notes"], "Seen in the 2026 purple-team exercise");

    // It sits in the matrix like any other technique.
    let execution = json_body(app.get("/api/v1/techniques?tactic=execution", &admin).await).await;
    assert!(
        execution
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["mitre_id"] == "T9001")
    );

    // A sub-technique of it.
    let response = app
        .post_json(
            "/api/v1/techniques",
            &admin,
            json!({ "mitre_id": "T9001.001", "name": "Via its CLI", "tactics": ["execution"], "parent_mitre_id": "T9001" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let detail = json_body(app.get("/api/v1/techniques/T9001", &admin).await).await;
    assert_eq!(detail["subtechniques"], json!(["T9001.001"]));

    // Refusals.
    let response = app.post_json("/api/v1/techniques", &admin, custom()).await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        json_body(response).await["detail"],
        "A technique T9001 already exists"
    );
    let response = app
        .post_json(
            "/api/v1/techniques",
            &admin,
            json!({ "mitre_id": "9 bad", "name": "", "tactics": ["lunch"], "parent_mitre_id": "T9001.001" }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let fields = json_body(response).await["fields"].clone();
    for field in ["mitre_id", "name", "tactics", "parent_mitre_id"] {
        assert!(fields[field].is_string(), "{field}: {fields}");
    }
    assert!(
        fields["tactics"]
            .as_str()
            .unwrap()
            .contains("Unknown tactic(s): lunch")
    );
    let response = app
        .post_json("/api/v1/techniques", &admin, json!({ "name": "no id" }))
        .await;
    assert!(
        matches!(response.status().as_u16(), 400 | 422),
        "missing fields are refused: {}",
        response.status()
    );
    app.create_user(&admin, "lea", "red_lead", "red-lead-password-1")
        .await;
    let lead = app.login("lea", "red-lead-password-1").await;
    let mut other = custom();
    other["mitre_id"] = json!("T9002");
    assert_eq!(
        app.post_json("/api/v1/techniques", &lead, other)
            .await
            .status(),
        403
    );

    // Every field of a custom technique can change.
    let response = app
        .patch_json(
            "/api/v1/techniques/T9001",
            &admin,
            json!({ "name": "Deploy tool abuse", "tactics": ["execution", "persistence"], "notes": "" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let edited = json_body(response).await;
    assert_eq!(edited["name"], "Deploy tool abuse");
    assert_eq!(edited["tactics"], json!(["execution", "persistence"]));
    assert_eq!(edited["notes"], "");

    // Of an ATT&CK technique only the notes: the rest belongs to the sync.
    let response = app
        .patch_json(
            "/api/v1/techniques/T1059",
            &admin,
            json!({ "notes": "Covered by EDR rule 42" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(response).await["notes"], "Covered by EDR rule 42");
    let response = app
        .patch_json(
            "/api/v1/techniques/T1059",
            &admin,
            json!({ "name": "Renamed", "notes": "x" }),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["name"].is_string());
    let unchanged = json_body(app.get("/api/v1/techniques/T1059", &admin).await).await;
    assert_eq!(unchanged["name"], "Command and Scripting Interpreter");
    assert_eq!(unchanged["notes"], "Covered by EDR rule 42");

    let response = app
        .patch_json("/api/v1/techniques/T1059", &admin, json!({}))
        .await;
    assert_eq!(response.status(), 400);
    let response = app
        .patch_json(
            "/api/v1/techniques/T1059",
            &admin,
            json!({ "colour": "red" }),
        )
        .await;
    assert!(matches!(response.status().as_u16(), 400 | 422));
    assert!(json_body(response).await["detail"].is_string());
    assert_eq!(
        app.patch_json("/api/v1/techniques/T4242", &admin, json!({ "notes": "x" }))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.patch_json("/api/v1/techniques/T1059", &lead, json!({ "notes": "x" }))
            .await
            .status(),
        403
    );

    // Both changes are in the audit log.
    let audit = json_body(
        app.get("/api/v1/audit-logs?entity_type=technique", &admin)
            .await,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "technique.update",
            "technique.update",
            "technique.create",
            "technique.create"
        ]
    );
    app
}

async fn a_sync_never_touches_custom_techniques(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let mut bundle: Value = serde_json::from_str(FIXTURE).unwrap();
    import(&app, &admin, &bundle).await;
    assert_eq!(
        app.post_json("/api/v1/techniques", &admin, custom())
            .await
            .status(),
        201
    );
    let before = json_body(app.get("/api/v1/techniques/T9001", &admin).await).await;

    // MITRE later publishes a technique with the same id.
    let mut published = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "attack-pattern--t1059")
        .unwrap()
        .clone();
    published["id"] = json!("attack-pattern--t9001");
    published["name"] = json!("Something else entirely");
    published["external_references"][0]["external_id"] = json!("T9001");
    bundle["objects"].as_array_mut().unwrap().push(published);
    let report = import(&app, &admin, &bundle).await;
    assert_eq!(report["skipped_custom"], json!(["T9001"]));

    let after = json_body(app.get("/api/v1/techniques/T9001", &admin).await).await;
    assert_eq!(before, after, "the custom technique is untouched");
    app
}
