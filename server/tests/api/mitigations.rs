//! ATT&CK mitigations, imported with the knowledge base: the list and one mitigation with the
//! techniques it mitigates (ATT&CK's text for each), a technique's mitigations, those a test's
//! remediation is offered (its parent's for a sub-technique without its own), re-imports (no
//! change, a changed text, a removed link), and the real bundle's counts when it is there.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    mitigations_come_with_the_knowledge_base,
    the_real_bundle_has_its_published_mitigations
);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");

fn course(id: &str, mitre_id: &str, name: &str, deprecated: bool) -> Value {
    json!({
        "type": "course-of-action",
        "id": id,
        "spec_version": "2.1",
        "name": name,
        "description": format!("{name} in general. (Citation: Vendor)"),
        "created": "2020-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "x_mitre_deprecated": deprecated,
        "external_references": [{"source_name": "mitre-attack", "external_id": mitre_id, "url": format!("https://attack.mitre.org/mitigations/{mitre_id}")}]
    })
}

fn mitigates(id: &str, source: &str, target: &str, text: &str) -> Value {
    json!({
        "type": "relationship",
        "id": id,
        "spec_version": "2.1",
        "relationship_type": "mitigates",
        "source_ref": source,
        "target_ref": target,
        "description": text,
        "created": "2020-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z"
    })
}

fn bundle(links: &[Value]) -> Vec<u8> {
    let mut bundle: Value = serde_json::from_str(BUNDLE).unwrap();
    let objects = bundle["objects"].as_array_mut().unwrap();
    objects.push(course(
        "course-of-action--m1038",
        "M1038",
        "Execution Prevention",
        false,
    ));
    objects.push(course(
        "course-of-action--m1026",
        "M1026",
        "Privileged Account Management",
        false,
    ));
    objects.push(course(
        "course-of-action--old",
        "T1053",
        "Scheduled Task Mitigation",
        true,
    ));
    objects.extend(links.iter().cloned());
    serde_json::to_vec(&bundle).unwrap()
}

fn links(text: &str) -> Vec<Value> {
    vec![
        mitigates(
            "relationship--m1",
            "course-of-action--m1038",
            "attack-pattern--t1059",
            text,
        ),
        mitigates(
            "relationship--m2",
            "course-of-action--m1026",
            "attack-pattern--t1053",
            "Limit who may create tasks.",
        ),
        mitigates(
            "relationship--m3",
            "course-of-action--m1038",
            "attack-pattern--t1053",
            "Block unknown task binaries.",
        ),
    ]
}

async fn mitigations_come_with_the_knowledge_base(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let response = app
        .import_bundle(
            &admin,
            "b.json",
            bundle(&links("Block scripts from unknown places. (Citation: X)")),
        )
        .await;
    assert_eq!(response.status(), 200);
    let report = json_body(response).await;
    assert_eq!(report["mitigations_added"], 3, "{report}");
    assert_eq!(report["mitigation_links_added"], 3, "{report}");

    app.create_user(&admin, "viewer1", "viewer", "a-long-password-1")
        .await;
    let viewer = app.login("viewer1", "a-long-password-1").await;
    let list = json_body(app.get("/api/v1/mitigations", &viewer).await).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mitre_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["M1026", "M1038"], "deprecated ones are hidden");
    assert_eq!(list[1]["technique_count"], 2);
    assert_eq!(list[1]["description"], "Execution Prevention in general.");
    let all = json_body(
        app.get("/api/v1/mitigations?include_deprecated=true", &viewer)
            .await,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let searched = json_body(
        app.get("/api/v1/mitigations?search=PRIVILEGED", &viewer)
            .await,
    )
    .await;
    assert_eq!(searched.as_array().unwrap().len(), 1);

    let one = json_body(app.get("/api/v1/mitigations/m1038", &viewer).await).await;
    assert_eq!(one["name"], "Execution Prevention");
    let techniques: Vec<(&str, &str)> = one["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["mitre_id"].as_str().unwrap(),
                t["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        techniques,
        [
            ("T1053", "Block unknown task binaries."),
            ("T1059", "Block scripts from unknown places.")
        ]
    );
    assert_eq!(one["techniques"][0]["coverage_status"], "not_covered");
    let by_id = json_body(
        app.get(
            &format!("/api/v1/mitigations/{}", one["id"].as_str().unwrap()),
            &viewer,
        )
        .await,
    )
    .await;
    assert_eq!(by_id["mitre_id"], "M1038");
    let missing = app.get("/api/v1/mitigations/M9999", &viewer).await;
    assert_eq!(missing.status(), 404);
    assert!(
        json_body(missing).await["detail"]
            .as_str()
            .unwrap()
            .contains("M9999")
    );

    let technique = json_body(app.get("/api/v1/techniques/T1053", &viewer).await).await;
    let names: Vec<&str> = technique["mitigations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mitre_id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["M1026", "M1038"]);

    // A test of a sub-technique without mitigations of its own is offered its parent's.
    let response = app
        .post_json(
            "/api/v1/tests",
            &admin,
            json!({"title": "PowerShell download cradle", "technique_id": "T1059.001"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let test = json_body(response).await;
    let offered = json_body(
        app.get(
            &format!("/api/v1/tests/{}", test["id"].as_str().unwrap()),
            &viewer,
        )
        .await,
    )
    .await;
    assert_eq!(offered["mitigations"][0]["mitre_id"], "M1038");
    assert_eq!(
        offered["mitigations"][0]["description"],
        "Block scripts from unknown places."
    );

    // Re-imports: nothing changed; then a changed text and a removed link.
    let report = json_body(
        app.import_bundle(
            &admin,
            "b.json",
            bundle(&links("Block scripts from unknown places. (Citation: X)")),
        )
        .await,
    )
    .await;
    for field in [
        "mitigations_added",
        "mitigations_updated",
        "mitigation_links_added",
        "mitigation_links_updated",
        "mitigation_links_removed",
    ] {
        assert_eq!(report[field], 0, "{field}: {report}");
    }
    let mut changed = links("Allow-list script hosts.");
    changed.truncate(2);
    let report = json_body(app.import_bundle(&admin, "b.json", bundle(&changed)).await).await;
    assert_eq!(report["mitigation_links_updated"], 1, "{report}");
    assert_eq!(report["mitigation_links_removed"], 1, "{report}");
    let one = json_body(app.get("/api/v1/mitigations/M1038", &viewer).await).await;
    assert_eq!(one["techniques"].as_array().unwrap().len(), 1);
    assert_eq!(
        one["techniques"][0]["description"],
        "Allow-list script hosts."
    );
    app
}

async fn the_real_bundle_has_its_published_mitigations(app: TestApp) -> TestApp {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/attack/enterprise-attack.json");
    let Ok(bytes) = std::fs::read(&path) else {
        println!("skipped: {} is not there", path.display());
        return app;
    };
    let admin = app.admin_token().await;
    let report = json_body(
        app.import_bundle(&admin, "enterprise-attack.json", bytes)
            .await,
    )
    .await;
    // 268 course-of-action objects (224 of them the deprecated, technique-named mitigations
    // of older ATT&CK) and 1,445 mitigates relationships.
    assert_eq!(report["mitigations_added"], 268, "{report}");
    assert_eq!(report["mitigation_links_added"], 1445, "{report}");
    let active = json_body(app.get("/api/v1/mitigations", &admin).await).await;
    assert_eq!(active.as_array().unwrap().len(), 44);
    let m1038 = json_body(app.get("/api/v1/mitigations/M1038", &admin).await).await;
    assert_eq!(m1038["name"], "Execution Prevention");
    assert!(m1038["techniques"].as_array().unwrap().len() > 20);
    let t1059 = json_body(app.get("/api/v1/techniques/T1059.001", &admin).await).await;
    assert!(
        t1059["mitigations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mitre_id"] == "M1042"),
        "{}",
        t1059["mitigations"]
    );
    app
}
