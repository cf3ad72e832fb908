//! Detection rules through the API: Sigma and Elastic imports from a folder upload (re-import
//! unchanged, an upstream edit updated with the team's notes kept, broken files skipped with
//! their reason), the filters, custom rules and roles; and every shipped Sigma and Elastic rule
//! of `../shared/data` when it is there.
use crate::catalog_sources::{folder, import, zip_folder};
use crate::common::{Backend, TestApp, json_body};
use crate::for_each_backend;
use serde_json::{Value, json};
use std::path::Path;

for_each_backend!(
    rules_import_filter_and_keep_local_fields,
    the_shipped_rules_all_parse_or_say_why
);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");
const PASSWORD: &str = "a-long-password-1";

fn sigma(id: &str, title: &str, tags: &str, level: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nstatus: test\ndescription: Detects {title}.\nauthor: Fixture\ntags:\n{tags}\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\\\powershell.exe'\n    condition: selection\nfalsepositives:\n    - Admin scripts\nlevel: {level}\n"
    )
}

const ELASTIC: &str = r#"[metadata]
maturity = "production"

[rule]
author = ["Elastic"]
description = "Cron jobs created by unusual processes."
index = ["logs-endpoint.events.file-*"]
language = "eql"
name = "Cron Job Created"
rule_id = "e1f0a1b2-0000-4000-8000-000000000001"
severity = "medium"
tags = ["OS: Linux"]
type = "eql"
query = "file where event.type == \"creation\" and file.path : \"/etc/cron.d/*\""

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1053"
name = "Scheduled Task/Job"

[rule.threat.tactic]
id = "TA0003"
name = "Persistence"
"#;

async fn rules(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/detection-rules?{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "{query}");
    json_body(response).await
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn rules_import_filter_and_keep_local_fields(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(&admin, "attack.json", BUNDLE.as_bytes().to_vec())
            .await
            .status(),
        200
    );
    for (user, role) in [
        ("blue", "blue_lead"),
        ("red", "red_lead"),
        ("view", "viewer"),
    ] {
        app.create_user(&admin, user, role, PASSWORD).await;
    }
    let blue = app.login("blue", PASSWORD).await;
    let red = app.login("red", PASSWORD).await;
    let viewer = app.login("view", PASSWORD).await;

    let powershell = sigma(
        "11111111-0000-4000-8000-000000000001",
        "PowerShell From Office",
        "    - attack.execution\n    - attack.t1059.001",
        "high",
    );
    let shells = sigma(
        "11111111-0000-4000-8000-000000000002",
        "Unix Shell Spawn",
        "    - attack.t1059.004\n    - attack.t1685",
        "medium",
    );
    let files = [
        ("sigma/rules/windows/ps.yml", powershell.as_str()),
        ("sigma/rules/linux/sh.yml", shells.as_str()),
        ("sigma/rules/windows/broken.yml", "title: Broken\nid: 3\n"),
        ("sigma/deprecated/windows/old.yml", powershell.as_str()),
        ("sigma/README.md", "# Sigma"),
    ];
    // Only admins import.
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-sigma",
            Some(&blue),
        )
        .multipart(folder(&files))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let report = import(&app, &admin, "sigma", folder(&files)).await;
    assert_eq!(
        report["files"], 3,
        "deprecated/ and the README are left out: {report}"
    );
    assert_eq!(report["added"], 2, "{report}");
    assert_eq!(report["skipped"][0]["path"], "rules/windows/broken.yml");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("detection")
    );
    assert_eq!(
        report["unknown_techniques"],
        json!([["T1685", 1]]),
        "{report}"
    );

    let report = import(
        &app,
        &admin,
        "elastic-rules",
        folder(&[("rules/linux/cron.toml", ELASTIC)]),
    )
    .await;
    assert_eq!(report["added"], 1, "{report}");

    // Filters: a parent finds its sub-techniques' rules.
    let all = rules(&app, &viewer, "").await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        titles(&rules(&app, &viewer, "technique=T1059").await),
        ["PowerShell From Office", "Unix Shell Spawn"]
    );
    assert_eq!(
        titles(&rules(&app, &viewer, "technique=T1059.001").await),
        ["PowerShell From Office"]
    );
    assert_eq!(
        titles(&rules(&app, &viewer, "source=elastic").await),
        ["Cron Job Created"]
    );
    assert_eq!(
        titles(&rules(&app, &viewer, "platform=linux").await),
        ["Cron Job Created"]
    );
    assert_eq!(
        titles(&rules(&app, &viewer, "level=high").await),
        ["PowerShell From Office"]
    );
    assert_eq!(
        titles(&rules(&app, &viewer, "search=cron").await),
        ["Cron Job Created"]
    );
    let response = app
        .get("/api/v1/detection-rules?source=splunk", &viewer)
        .await;
    assert_eq!(response.status(), 422);

    let ps_id = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "PowerShell From Office")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/detection-rules/{ps_id}");
    let detail = json_body(app.get(&path, &viewer).await).await;
    assert_eq!(detail["source"], "sigma");
    assert_eq!(detail["language"], "sigma");
    assert!(
        detail["query"]
            .as_str()
            .unwrap()
            .contains("condition: selection")
    );
    assert_eq!(
        detail["source_url"],
        "https://github.com/SigmaHQ/sigma/blob/master/rules/windows/ps.yml"
    );
    assert_eq!(detail["license"], "DRL-1.1");
    assert_eq!(detail["false_positives"], json!(["Admin scripts"]));
    let shell = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Unix Shell Spawn")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shell = json_body(
        app.get(&format!("/api/v1/detection-rules/{shell}"), &viewer)
            .await,
    )
    .await;
    assert_eq!(shell["unknown_techniques"], json!(["T1685"]));

    // The local fields: blue leads and admins; an imported rule keeps its upstream fields.
    assert_eq!(
        app.patch_json(&path, &red, json!({"notes": "x"}))
            .await
            .status(),
        403
    );
    let response = app
        .patch_json(&path, &blue, json!({"title": "Mine now"}))
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["title"].is_string());
    let response = app
        .patch_json(
            &path,
            &blue,
            json!({"notes": "Tuned for our EDR", "is_active": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        rules(&app, &viewer, "").await["total"],
        2,
        "inactive rules are hidden"
    );
    assert_eq!(
        rules(&app, &viewer, "include_inactive=true").await["total"],
        3
    );

    // Re-imports: unchanged; then an upstream edit updates the rule and keeps the notes.
    let report = import(&app, &admin, "sigma", folder(&files)).await;
    assert_eq!(
        (report["added"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{report}"
    );
    let edited = powershell.replace("level: high", "level: critical");
    let changed = [
        ("sigma/rules/windows/ps.yml", edited.as_str()),
        ("sigma/rules/linux/sh.yml", shells.as_str()),
    ];
    let report = import(&app, &admin, "sigma", folder(&changed)).await;
    assert_eq!(
        (report["updated"].as_u64(), report["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let detail = json_body(app.get(&path, &viewer).await).await;
    assert_eq!(detail["level"], "critical");
    assert_eq!(detail["notes"], "Tuned for our EDR");
    assert_eq!(detail["is_active"], false);

    // A zip of the repository works the same way.
    let dir = std::env::temp_dir().join(format!("aegis-sigma-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("sigma-master/rules/windows")).unwrap();
    std::fs::write(dir.join("sigma-master/rules/windows/ps.yml"), &edited).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(zip_folder(&dir)).file_name("sigma.zip"),
    );
    let report = import(&app, &admin, "sigma", form).await;
    assert_eq!(report["unchanged"], 1, "{report}");
    let _ = std::fs::remove_dir_all(&dir);

    // Custom rules.
    let custom = json!({
        "title": "Our PowerShell logging rule",
        "techniques": ["t1059.001"],
        "level": "High",
        "query": "event.code: 4104",
        "language": "kuery",
        "platforms": ["Windows"]
    });
    assert_eq!(
        app.post_json("/api/v1/detection-rules", &viewer, custom.clone())
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_json("/api/v1/detection-rules", &red, custom.clone())
            .await
            .status(),
        403
    );
    for (body, field) in [
        (json!({"title": "", "techniques": ["T1059"]}), "title"),
        (json!({"title": "x", "techniques": []}), "techniques"),
        (json!({"title": "x", "techniques": ["T9999"]}), "techniques"),
        (json!({"title": "x", "techniques": ["nope"]}), "techniques"),
        (
            json!({"title": "x".repeat(501), "techniques": ["T1059"]}),
            "title",
        ),
    ] {
        let response = app
            .post_json("/api/v1/detection-rules", &blue, body.clone())
            .await;
        assert_eq!(response.status(), 422, "{body}");
        assert!(
            json_body(response).await["fields"][field].is_string(),
            "{body}"
        );
    }
    let response = app
        .post_json(
            "/api/v1/detection-rules",
            &blue,
            json!({"title": "x", "bogus": 1}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let response = app
        .post_json("/api/v1/detection-rules", &blue, custom)
        .await;
    assert_eq!(response.status(), 201);
    let created = json_body(response).await;
    assert_eq!(created["source"], "custom");
    assert_eq!(created["techniques"], json!(["T1059.001"]));
    assert_eq!(created["level"], "high");
    assert_eq!(created["platforms"], json!(["windows"]));
    assert_eq!(created["author"], "blue");
    let custom_path = format!(
        "/api/v1/detection-rules/{}",
        created["id"].as_str().unwrap()
    );
    let response = app
        .patch_json(
            &custom_path,
            &blue,
            json!({"techniques": ["T1059", "T1053"], "title": "Renamed"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        titles(&rules(&app, &viewer, "technique=T1053&source=custom").await),
        ["Renamed"]
    );
    assert_eq!(
        app.get(
            "/api/v1/detection-rules/00000000-0000-4000-8000-000000000000",
            &viewer
        )
        .await
        .status(),
        404
    );
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=detection_rules.import", &admin)
            .await,
    )
    .await;
    assert_eq!(audit["total"], 5);
    app.finish().await;
}

/// Every shipped Sigma rule (341) and Elastic rule (290) parses or is skipped with a reason;
/// the Sigma sample's four ATT&CK v19 ids are reported as unknown to v18.1.
async fn the_shipped_rules_all_parse_or_say_why(backend: Backend) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let (sigma_dir, elastic_dir, bundle) = (
        shared.join("sigma"),
        shared.join("elastic-detection-rules"),
        shared.join("attack/enterprise-attack.json"),
    );
    if !sigma_dir.is_dir() || !elastic_dir.is_dir() || !bundle.exists() {
        println!("skipped: ../shared/data (sigma, elastic-detection-rules, ATT&CK) is not there");
        return;
    }
    let app = TestApp::start(backend).await;
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(
            &admin,
            "enterprise-attack.json",
            std::fs::read(&bundle).unwrap()
        )
        .await
        .status(),
        200
    );
    let upload = |dir: &Path| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(zip_folder(dir)).file_name("rules.zip"),
        )
    };
    let report = import(&app, &admin, "sigma", upload(&sigma_dir)).await;
    assert_eq!(report["files"], 341, "{report}");
    assert_eq!(report["added"], 341, "{report}");
    assert_eq!(report["skipped"], json!([]), "{report}");
    assert_eq!(
        report["unknown_techniques"],
        json!([
            ["T1685", 4],
            ["T1685.001", 3],
            ["T1686.003", 1],
            ["T1689", 1]
        ]),
        "the README's v19 ids"
    );
    let report = import(&app, &admin, "elastic-rules", upload(&elastic_dir)).await;
    assert_eq!(report["files"], 290, "{report}");
    assert_eq!(report["added"], 290, "{report}");
    assert_eq!(report["skipped"], json!([]), "{report}");
    assert_eq!(report["unknown_techniques"], json!([]), "{report}");
    let elastic = rules(&app, &admin, "source=elastic&limit=500").await;
    let untagged = elastic["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["techniques"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(untagged, 2, "the README's two tactic-only rules");
    // Re-imports change nothing.
    let report = import(&app, &admin, "sigma", upload(&sigma_dir)).await;
    assert_eq!(report["unchanged"], 341, "{report}");
    let t1059 = rules(&app, &admin, "technique=T1059&limit=500").await;
    assert!(t1059["total"].as_u64().unwrap() > 20, "{}", t1059["total"]);
    app.finish().await;
}
