use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use reqwest::multipart::Form;
use serde_json::{Value, json};

on_both_backends!(
    importing_a_bundle_builds_the_knowledge_base,
    reimports_change_nothing_and_changes_are_flagged,
    broken_bundles_are_refused_and_change_nothing,
    the_real_enterprise_bundle_matches_its_published_counts,
);

const FIXTURE: &str = include_str!("../fixtures/attack-mini.json");

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.import_bundle(token, name, bytes).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["mitre_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn importing_a_bundle_builds_the_knowledge_base(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    let response = upload(
        &app,
        &admin,
        "attack-mini.json",
        FIXTURE.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let report = json_body(response).await;
    assert_eq!(report["tactics_added"], 3);
    assert_eq!(
        report["techniques_added"], 7,
        "deprecated and revoked ones are kept, flagged: {report}"
    );
    assert_eq!(report["actors_added"], 2);
    assert_eq!(
        report["actor_links_added"], 3,
        "revoked relationships are ignored"
    );

    let tactics = json_body(app.get("/api/v1/tactics", &admin).await).await;
    let names: Vec<&str> = tactics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["shortname"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["reconnaissance", "execution", "persistence"],
        "matrix order, not file order"
    );

    let all = json_body(app.get("/api/v1/techniques", &admin).await).await;
    assert_eq!(
        ids(&all),
        ["T1053", "T1059", "T1059.001", "T1059.004", "T1595"]
    );
    let t1059 = &all[1];
    assert_eq!(t1059["subtechniques"], json!(["T1059.001", "T1059.004"]));
    assert_eq!(t1059["coverage_status"], "not_covered");
    assert_eq!(all[2]["parent_mitre_id"], "T1059");
    assert_eq!(all[2]["is_subtechnique"], true);

    let with_old = json_body(
        app.get("/api/v1/techniques?include_deprecated=true", &admin)
            .await,
    )
    .await;
    assert_eq!(with_old.as_array().unwrap().len(), 7);

    let q = |query: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            ids(&json_body(
                app.get(&format!("/api/v1/techniques?{query}"), &admin)
                    .await,
            )
            .await)
        }
    };
    assert_eq!(q("tactic=persistence").await, ["T1053"]);
    assert_eq!(
        q("tactic=TA0002").await,
        ["T1053", "T1059", "T1059.001", "T1059.004"]
    );
    assert_eq!(q("platform=linux").await, ["T1053", "T1059", "T1059.004"]);
    assert_eq!(q("actor=G0006").await, ["T1053", "T1059.001"]);
    assert_eq!(q("search=powershell").await, ["T1059.001"]);
    assert_eq!(q("search=t1595").await, ["T1595"]);
    assert_eq!(q("status=not_covered&platform=PRE").await, ["T1595"]);
    assert!(q("status=validated").await.is_empty());
    assert!(q("review_required=true").await.is_empty());

    for bad in [
        "status=covered",
        "tactic=nonsense",
        "actor=G9999",
        "review_required=maybe",
    ] {
        let response = app.get(&format!("/api/v1/techniques?{bad}"), &admin).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(json_body(response).await["detail"].is_string());
    }

    let detail = json_body(app.get("/api/v1/techniques/t1059.001", &admin).await).await;
    assert_eq!(detail["mitre_id"], "T1059.001");
    assert_eq!(detail["data_sources"], json!(["Command Execution"]));
    assert_eq!(detail["detection"], "Detect PowerShell abuse");
    assert_eq!(detail["actors"][0]["mitre_id"], "G0006");
    assert!(
        detail["description"]
            .as_str()
            .unwrap()
            .contains("**markdown**")
    );
    let parent = json_body(app.get("/api/v1/techniques/T1059", &admin).await).await;
    assert_eq!(parent["subtechnique_details"].as_array().unwrap().len(), 2);
    assert_eq!(parent["actors"][0]["name"], "FIN7");
    assert_eq!(
        app.get("/api/v1/techniques/T9999", &admin).await.status(),
        404
    );

    let actors = json_body(app.get("/api/v1/threat-actors", &admin).await).await;
    assert_eq!(actors.as_array().unwrap().len(), 2);
    let apt1 = actors
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["mitre_id"] == "G0006")
        .unwrap();
    assert_eq!(apt1["technique_count"], 2);
    let found = json_body(
        app.get("/api/v1/threat-actors?search=comment", &admin)
            .await,
    )
    .await;
    assert_eq!(found[0]["name"], "APT1");
    let detail = json_body(app.get("/api/v1/threat-actors/G0006", &admin).await).await;
    assert_eq!(ids(&detail["techniques"]), ["T1053", "T1059.001"]);
    let by_id = app
        .get(
            &format!("/api/v1/threat-actors/{}", detail["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(
        app.get("/api/v1/threat-actors/G9999", &admin)
            .await
            .status(),
        404
    );

    // Everyone signed in may read; only admins import.
    app.create_user(&admin, "vera", "viewer", "viewer-password-1")
        .await;
    let viewer = app.login("vera", "viewer-password-1").await;
    assert_eq!(app.get("/api/v1/techniques", &viewer).await.status(), 200);
    assert_eq!(
        upload(&app, &viewer, "x.json", FIXTURE.as_bytes().to_vec())
            .await
            .status(),
        403
    );
    assert_eq!(
        app.client
            .get(app.url("/api/v1/techniques"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let runs = json_body(app.get("/api/v1/system/sync-runs", &admin).await).await;
    assert_eq!(runs[0]["status"], "success");
    assert_eq!(runs[0]["trigger"], "admin");
    assert_eq!(runs[0]["source"], "upload:attack-mini.json");
    assert_eq!(runs[0]["report"]["techniques_added"], 7);
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=attack.import", &admin)
            .await,
    )
    .await;
    assert_eq!(audit["total"], 1);
    app
}

async fn reimports_change_nothing_and_changes_are_flagged(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    upload(&app, &admin, "a.json", FIXTURE.as_bytes().to_vec()).await;
    let report = json_body(upload(&app, &admin, "a.json", FIXTURE.as_bytes().to_vec()).await).await;
    for key in [
        "tactics_added",
        "tactics_updated",
        "techniques_added",
        "techniques_updated",
        "actors_added",
        "actors_updated",
        "actor_links_added",
        "actor_links_removed",
    ] {
        assert_eq!(report[key], 0, "{key} on re-import: {report}");
    }
    assert_eq!(report["techniques_unchanged"], 7);
    assert_eq!(report["changed"], json!([]));

    // A new ATT&CK release: T1059 renamed, T1053 gains a platform, T1595 deprecated,
    // PowerShell's modified date alone moves (no review needed), APT1 stops using T1053.
    let mut bundle: Value = serde_json::from_str(FIXTURE).unwrap();
    for object in bundle["objects"].as_array_mut().unwrap() {
        match object["id"].as_str().unwrap() {
            "attack-pattern--t1059" => object["name"] = json!("Command Interpreters"),
            "attack-pattern--t1053" => {
                object["x_mitre_platforms"] = json!(["Windows", "Linux", "macOS"])
            }
            "attack-pattern--t1595" => object["x_mitre_deprecated"] = json!(true),
            "attack-pattern--t1059-001" => object["modified"] = json!("2026-01-01T00:00:00.000Z"),
            "relationship--2" => object["revoked"] = json!(true),
            _ => {}
        }
    }
    let response = upload(&app, &admin, "b.json", serde_json::to_vec(&bundle).unwrap()).await;
    let report = json_body(response).await;
    let changed: Vec<(String, Value)> = report["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["mitre_id"].as_str().unwrap().to_owned(),
                c["fields"].clone(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            ("T1053".to_owned(), json!(["platforms"])),
            ("T1059".to_owned(), json!(["name"])),
            ("T1595".to_owned(), json!(["deprecated"])),
        ]
    );
    assert_eq!(report["techniques_updated"], 4);
    assert_eq!(report["techniques_deprecated"], 1);
    assert_eq!(report["actor_links_removed"], 1);

    let flagged = json_body(
        app.get(
            "/api/v1/techniques?review_required=true&include_deprecated=true",
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&flagged), ["T1053", "T1059", "T1595"]);
    let actor = json_body(app.get("/api/v1/threat-actors/G0006", &admin).await).await;
    assert_eq!(ids(&actor["techniques"]), ["T1059.001"]);

    // Leads and admins clear the flag; technicians may not.
    app.create_user(&admin, "bea", "blue_lead", "blue-lead-password-1")
        .await;
    app.create_user(&admin, "rob", "red_tech", "red-tech-password-1")
        .await;
    let lead = app.login("bea", "blue-lead-password-1").await;
    let tech = app.login("rob", "red-tech-password-1").await;
    let response = app
        .patch_json("/api/v1/techniques/T1059/review", &tech, json!({}))
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .patch_json("/api/v1/techniques/T1059/review", &lead, json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let detail = json_body(response).await;
    assert_eq!(detail["review_required"], false);
    assert!(detail["reviewed_at"].is_string());
    assert_eq!(
        app.patch_json("/api/v1/techniques/T4242/review", &lead, json!({}))
            .await
            .status(),
        404
    );
    let flagged = json_body(
        app.get(
            "/api/v1/techniques?review_required=true&include_deprecated=true",
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&flagged), ["T1053", "T1595"]);
    app
}

async fn broken_bundles_are_refused_and_change_nothing(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    upload(&app, &admin, "good.json", FIXTURE.as_bytes().to_vec()).await;
    let before = json_body(
        app.get("/api/v1/techniques?include_deprecated=true", &admin)
            .await,
    )
    .await;

    let truncated = FIXTURE.as_bytes()[..FIXTURE.len() / 2].to_vec();
    let response = upload(&app, &admin, "truncated.json", truncated).await;
    assert_eq!(response.status(), 400);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );

    let response = upload(&app, &admin, "notes.txt", b"hello, not json".to_vec()).await;
    assert_eq!(response.status(), 400);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let response = upload(
        &app,
        &admin,
        "other.json",
        br#"{"type": "report", "objects": []}"#.to_vec(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("not a STIX bundle")
    );

    let response = upload(
        &app,
        &admin,
        "empty.json",
        br#"{"type": "bundle", "id": "bundle--x", "objects": []}"#.to_vec(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("no ATT&CK techniques")
    );

    let response = app
        .client
        .post(app.url("/api/v1/system/import-attack-bundle"))
        .bearer_auth(&admin)
        .multipart(Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["file"].is_string());

    let after = json_body(
        app.get("/api/v1/techniques?include_deprecated=true", &admin)
            .await,
    )
    .await;
    assert_eq!(
        before, after,
        "failed imports leave the knowledge base as it was"
    );
    let runs = json_body(app.get("/api/v1/system/sync-runs", &admin).await).await;
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "failed").count(), 4);
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["error"].as_str().is_some_and(|e| e.contains("truncated")))
    );
    app
}

async fn the_real_enterprise_bundle_matches_its_published_counts(app: TestApp) -> TestApp {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/attack/enterprise-attack.json");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: {} is not present", path.display());
        return app;
    };
    let admin = app.admin_token().await;
    let report =
        json_body(upload(&app, &admin, "enterprise-attack.json", bytes.clone()).await).await;
    assert_eq!(report["tactics_added"], 14, "{report}");
    let tactics = json_body(app.get("/api/v1/tactics", &admin).await).await;
    assert_eq!(tactics[0]["mitre_id"], "TA0043");
    assert_eq!(tactics[13]["mitre_id"], "TA0040");
    let all = json_body(app.get("/api/v1/techniques", &admin).await).await;
    let all = all.as_array().unwrap();
    let subs = all.iter().filter(|t| t["is_subtechnique"] == true).count();
    assert_eq!(all.len() - subs, 216, "active techniques");
    assert_eq!(subs, 475, "active sub-techniques");
    let actors = json_body(app.get("/api/v1/threat-actors", &admin).await).await;
    assert_eq!(
        actors.as_array().unwrap().len(),
        172,
        "active intrusion sets"
    );
    let windows = json_body(app.get("/api/v1/techniques?platform=Windows", &admin).await).await;
    assert_eq!(windows.as_array().unwrap().len(), 472);

    // So many procedure templates at once rebuild PostgreSQL's search index after the insert
    // rather than updating it row by row: it is there again, and finds them.
    assert!(
        report["procedure_templates_added"].as_u64().unwrap() > 2_000,
        "{report}"
    );
    if app.backend == crate::common::Backend::Postgres {
        use sea_orm::{ConnectionTrait, Statement};
        let db = app.database().await;
        let index = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT indexdef FROM pg_indexes \
                 WHERE indexname = 'ix_test_templates_search_text'",
            ))
            .await
            .unwrap();
        let definition: String = index.unwrap().try_get_by_index(0).unwrap();
        assert!(definition.contains("gin_trgm_ops"), "{definition}");
    }
    let found = json_body(
        app.get(
            "/api/v1/test-templates?search=mimikatz&source=mitre",
            &admin,
        )
        .await,
    )
    .await;
    assert!(found["total"].as_u64().unwrap() > 10, "{found}");

    // ATT&CK's 52 campaigns come along; a campaign emulating APT29 (G0016) drafts one test
    // per technique it uses (66 active ones in v18.1), from its procedure templates.
    assert_eq!(report["campaigns_added"], 52, "{report}");
    let attack = json_body(app.get("/api/v1/attack-campaigns/C0024", &admin).await).await;
    assert_eq!(attack["name"], "SolarWinds Compromise");
    assert_eq!(
        attack["techniques"].as_array().unwrap().len(),
        71,
        "{attack}"
    );
    assert_eq!(attack["actors"], json!(["G0016"]));
    let campaign = json_body(
        app.post_json(
            "/api/v1/campaigns",
            &admin,
            json!({"name": "APT29 emulation", "threat_actor": "G0016", "attack_campaign": "C0024"}),
        )
        .await,
    )
    .await;
    let path = format!(
        "/api/v1/campaigns/{}/generate",
        campaign["id"].as_str().unwrap()
    );
    let generated = json_body(
        app.post_json(
            &path,
            &admin,
            json!({"from": "threat_actor", "platform": "windows"}),
        )
        .await,
    )
    .await;
    let created = generated["created"].as_array().unwrap();
    assert_eq!(created.len(), 66, "{}", generated["skipped"]);
    assert!(
        created
            .iter()
            .filter(|t| t["title"].as_str().unwrap().starts_with('T'))
            .count()
            < 66,
        "most techniques have a procedure template to start from"
    );
    let more = json_body(app.post_json(&path, &admin, json!({})).await).await;
    let skipped = more["skipped"].as_array().unwrap();
    assert_eq!(
        skipped
            .iter()
            .filter(|s| s["reason"] == "already in the campaign")
            .count(),
        66
    );
    assert_eq!(
        more["created"].as_array().unwrap().len() + 66,
        json_body(
            app.get(
                &format!("/api/v1/campaigns/{}", campaign["id"].as_str().unwrap()),
                &admin
            )
            .await
        )
        .await["tests"]["total"]
            .as_u64()
            .unwrap() as usize
    );

    // Data components: v18 reaches them through detection strategies → analytics → log
    // sources (counted from the bundle: 109 components, 106 active; 2,615 (technique,
    // component) pairs over 650 active techniques and 97 components).
    assert_eq!(report["data_components_added"], 109, "{report}");
    assert_eq!(report["data_component_links"], 2615, "{report}");
    let inventory = json_body(app.get("/api/v1/data-sources", &admin).await).await;
    assert_eq!(inventory["items"].as_array().unwrap().len(), 109);
    assert_eq!(inventory["techniques_with_components"], 650);
    let used = inventory["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["techniques"].as_u64().unwrap() > 0)
        .count();
    assert_eq!(used, 97);
    let scores = json_body(app.get("/api/v1/scoring/summary", &admin).await).await;
    assert_eq!(scores["techniques"], 691, "{scores}");

    // NIST SP 800-53 rev5 (CTID, ATT&CK 16.1), counted from the shipped file: 109 controls
    // in 11 families; 5,264 distinct (control, technique) pairs, of which T1521.003 (Mobile) is
    // not in Enterprise and T1574.002 (revoked) moves to T1574.001: 5,263 mappings.
    if let Some((nist, detail)) = import_mapping(
        &app,
        &admin,
        "nist_800_53/attack-16.1/nist_800_53-rev5/enterprise/nist_800_53-rev5_attack-16.1-enterprise.json",
    )
    .await
    {
        assert_eq!(nist["rows"], 5410);
        assert_eq!(nist["controls_added"], 109);
        assert_eq!(nist["non_mappable"], 96);
        assert_eq!(nist["duplicates"], 50, "{nist}");
        assert_eq!(nist["mappings_added"], 5263, "{nist}");
        assert_eq!(nist["unknown_techniques"], json!(["T1521.003"]));
        assert_eq!(nist["revoked_resolved"], json!(["T1574.002 → T1574.001"]));
        assert_eq!(detail["families"].as_array().unwrap().len(), 11);
        assert_eq!(detail["controls"].as_array().unwrap().len(), 109);
        assert_eq!(detail["control_count"], 109);
        assert_eq!(detail["technique_count"], 468, "distinct mapped techniques");
        assert_eq!(
            detail["controls"][0]["control_id"], "AC-2",
            "unpadded, in order"
        );
    }
    // CSA CCM 4.1 (ATT&CK 17.1): here `non_mappable` is a control without technique (148 of
    // them, kept as controls); 204 controls in 17 families, 792 mapped rows of which 2 repeat
    // a pair: 790 mappings over 213 techniques, all active in v18.1. Ids stay as CSA writes them.
    if let Some((ccm, detail)) = import_mapping(
        &app,
        &admin,
        "csa_ccm/attack-17.1/csa_ccm-4.1/enterprise/csa_ccm-4.1_attack-17.1-enterprise.json",
    )
    .await
    {
        assert_eq!(ccm["rows"], 940);
        assert_eq!(ccm["key"], "csa_ccm");
        assert_eq!(ccm["controls_added"], 204);
        assert_eq!(ccm["non_mappable"], 148);
        assert_eq!(ccm["duplicates"], 2, "{ccm}");
        assert_eq!(ccm["mappings_added"], 790, "{ccm}");
        assert_eq!(ccm["unknown_techniques"], json!([]));
        assert_eq!(ccm["revoked_resolved"], json!([]));
        assert_eq!(detail["families"].as_array().unwrap().len(), 17);
        assert_eq!(detail["control_count"], 204);
        assert_eq!(detail["technique_count"], 213);
        assert_eq!(detail["controls"][0]["control_id"], "A&A-01");
    }

    let again = json_body(upload(&app, &admin, "enterprise-attack.json", bytes).await).await;
    assert_eq!(again["techniques_added"], 0);
    assert_eq!(again["techniques_updated"], 0);
    assert_eq!(again["campaigns_updated"], 0);
    assert_eq!(again["data_components_added"], 0);
    assert_eq!(again["data_components_updated"], 0);
    assert_eq!(again["changed"], json!([]));
    app
}

/// Imports one of the shipped CTID mappings (`../shared/data/compliance-mappings/mappings/…`)
/// through the job, and returns its report and the framework's detail; `None` (said why) when
/// the file is not present.
async fn import_mapping(app: &TestApp, admin: &str, path: &str) -> Option<(Value, Value)> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/compliance-mappings/mappings")
        .join(path);
    let Ok(mapping) = std::fs::read(&file) else {
        eprintln!("skipping the mapping: {} is not present", file.display());
        return None;
    };
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(mapping).file_name("mapping.json"),
    );
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-compliance",
            Some(admin),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let enqueued = json_body(response).await;
    let run = crate::common::wait_for_run(app, admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let report = run["result"]["report"].clone();
    let id = report["framework_id"].as_str().unwrap();
    let detail = json_body(
        app.get(&format!("/api/v1/compliance/frameworks/{id}"), admin)
            .await,
    )
    .await;
    Some((report, detail))
}
