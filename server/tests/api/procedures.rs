//! ATT&CK procedure examples become catalog templates (source `mitre`) on every import:
//! idempotent by relationship, updated when ATT&CK's text changes, local fields kept.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(attack_imports_keep_procedure_templates_in_step);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");

/// The fixture with procedure descriptions, and a piece of software that uses a technique.
fn bundle(apt1_text: &str) -> Vec<u8> {
    let mut bundle: Value = serde_json::from_str(BUNDLE).unwrap();
    let objects = bundle["objects"].as_array_mut().unwrap();
    for object in objects.iter_mut() {
        match object["id"].as_str().unwrap() {
            "relationship--1" => object["description"] = json!(apt1_text),
            "relationship--3" => {
                object["description"] = json!(
                    "[FIN7](https://attack.mitre.org/groups/G0046) used cmd.exe.(Citation: FireEye FIN7)"
                )
            }
            // Revoked: never a template.
            "relationship--4" => object["description"] = json!("Scanned the victim."),
            _ => {}
        }
    }
    objects.push(json!({
        "type": "tool", "id": "tool--cobalt", "spec_version": "2.1", "name": "Cobalt Strike",
        "external_references": [{"source_name": "mitre-attack", "external_id": "S0154"}]
    }));
    objects.push(json!({
        "type": "relationship", "id": "relationship--cs", "spec_version": "2.1",
        "relationship_type": "uses", "source_ref": "tool--cobalt", "target_ref": "attack-pattern--t1059-001",
        "description": "Cobalt Strike can execute PowerShell payloads."
    }));
    // A `uses` without a description says nothing to run.
    objects.push(json!({
        "type": "relationship", "id": "relationship--bare", "spec_version": "2.1",
        "relationship_type": "uses", "source_ref": "tool--cobalt", "target_ref": "attack-pattern--t1053"
    }));
    serde_json::to_vec(&bundle).unwrap()
}

async fn mitre_templates(app: &TestApp, token: &str) -> Vec<Value> {
    let page = json_body(
        app.get(
            "/api/v1/test-templates?source=mitre&include_inactive=true",
            token,
        )
        .await,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

async fn attack_imports_keep_procedure_templates_in_step(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let response = app
        .import_bundle(
            &admin,
            "bundle.json",
            bundle("APT1 used PowerShell to download tools."),
        )
        .await;
    assert_eq!(response.status(), 200);
    let report = json_body(response).await;
    assert_eq!(report["procedure_templates_added"], 3, "{report}");
    let templates = mitre_templates(&app, &admin).await;
    let mut names: Vec<&str> = templates
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "APT1: PowerShell",
            "Cobalt Strike: PowerShell",
            "FIN7: Command and Scripting Interpreter"
        ]
    );
    let fin7 = templates
        .iter()
        .find(|t| t["name"] == "FIN7: Command and Scripting Interpreter")
        .unwrap();
    assert_eq!(fin7["technique_id"], "T1059");
    assert_eq!(fin7["external_id"], "relationship--3");
    let detail = json_body(
        app.get(
            &format!("/api/v1/test-templates/{}", fin7["id"].as_str().unwrap()),
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(
        detail["description"],
        "[FIN7](https://attack.mitre.org/groups/G0046) used cmd.exe."
    );

    // An admin tunes a local field; the same import again changes nothing.
    let apt1 = templates
        .iter()
        .find(|t| t["name"] == "APT1: PowerShell")
        .unwrap();
    let apt1_id = apt1["id"].as_str().unwrap().to_owned();
    let patched = app
        .patch_json(
            &format!("/api/v1/test-templates/{apt1_id}"),
            &admin,
            json!({"severity": "high", "expected_detection": "Script block logging"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let again = json_body(
        app.import_bundle(
            &admin,
            "bundle.json",
            bundle("APT1 used PowerShell to download tools."),
        )
        .await,
    )
    .await;
    assert_eq!(again["procedure_templates_added"], 0);
    assert_eq!(again["procedure_templates_updated"], 0);

    // ATT&CK rewrites a procedure: its text follows, the local fields stay.
    let changed = json_body(
        app.import_bundle(
            &admin,
            "bundle.json",
            bundle("APT1 used PowerShell and WMI."),
        )
        .await,
    )
    .await;
    assert_eq!(changed["procedure_templates_updated"], 1);
    let detail = json_body(
        app.get(&format!("/api/v1/test-templates/{apt1_id}"), &admin)
            .await,
    )
    .await;
    assert_eq!(detail["description"], "APT1 used PowerShell and WMI.");
    assert_eq!(detail["severity"], "high");
    assert_eq!(detail["expected_detection"], "Script block logging");
    assert_eq!(mitre_templates(&app, &admin).await.len(), 3);

    // A team can start a test from one.
    let response = app
        .post_json(
            "/api/v1/tests/from-template",
            &admin,
            json!({"template_id": apt1_id}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let test = json_body(response).await;
    assert_eq!(test["technique_id"], "T1059.001");
    assert_eq!(test["description"], "APT1 used PowerShell and WMI.");
    app
}
