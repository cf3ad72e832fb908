//! The red/blue test workflow through HTTP: the full lifecycle with five roles, every refusal
//! (403 for the role, 409 for the state or a stale version), the dual vote under
//! concurrency, the timer, timeline, retest chain, remediation, coverage and notifications.
use crate::common::{TestApp, json_body};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_test_runs_the_whole_lifecycle,
    refusals_name_the_role_or_the_state,
    rejection_reopen_and_retest_tell_the_whole_story,
    concurrent_votes_both_count,
    the_list_filters_counts_and_pending_tasks,
    field_payloads_are_validated,
);

pub const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");
pub const PASSWORD: &str = "correct horse battery";

/// One user per role, with their token and id.
pub struct Crew {
    pub admin: String,
    pub red_tech: String,
    pub red_tech_id: String,
    pub blue_tech: String,
    pub blue_tech_id: String,
    pub red_lead: String,
    pub red_lead_id: String,
    pub blue_lead: String,
    pub blue_lead_id: String,
    pub viewer: String,
}

impl Crew {
    /// Creates the five users and loads the ATT&CK fixture.
    pub async fn hire(app: &TestApp) -> Crew {
        let admin = app.admin_token().await;
        assert_eq!(
            app.import_bundle(&admin, "bundle.json", BUNDLE.as_bytes().to_vec())
                .await
                .status(),
            200
        );
        let mut ids = Vec::new();
        let mut tokens = Vec::new();
        for role in ["red_tech", "blue_tech", "red_lead", "blue_lead", "viewer"] {
            let name = format!("{}_user", role.replace('_', ""));
            ids.push(app.create_user(&admin, &name, role, PASSWORD).await);
            tokens.push(app.login(&name, PASSWORD).await);
        }
        Crew {
            admin,
            red_tech: tokens[0].clone(),
            red_tech_id: ids[0].clone(),
            blue_tech: tokens[1].clone(),
            blue_tech_id: ids[1].clone(),
            red_lead: tokens[2].clone(),
            red_lead_id: ids[2].clone(),
            blue_lead: tokens[3].clone(),
            blue_lead_id: ids[3].clone(),
            viewer: tokens[4].clone(),
        }
    }
}

pub async fn create_test(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post_json("/api/v1/tests", token, body).await;
    assert_eq!(response.status(), 201);
    json_body(response).await
}

/// POSTs an action; asserts the status and returns the body.
pub async fn act(app: &TestApp, token: &str, id: &str, action: &str, expect: u16) -> Value {
    let response = app
        .post(&format!("/api/v1/tests/{id}/{action}"), token)
        .await;
    let status = response.status().as_u16();
    let body = json_body(response).await;
    assert_eq!(status, expect, "{action}: {body}");
    body
}

pub async fn vote(
    app: &TestApp,
    token: &str,
    id: &str,
    side: &str,
    status: &str,
    expect: u16,
) -> Value {
    let response = app
        .post_json(
            &format!("/api/v1/tests/{id}/validate-{side}"),
            token,
            json!({
                format!("{side}_validation_status"): status,
                format!("{side}_validation_notes"): format!("{side} lead says {status}"),
            }),
        )
        .await;
    let code = response.status().as_u16();
    let body = json_body(response).await;
    assert_eq!(code, expect, "validate-{side}: {body}");
    body
}

pub async fn patch(app: &TestApp, token: &str, path: &str, body: Value, expect: u16) -> Value {
    let response = app.patch_json(path, token, body).await;
    let code = response.status().as_u16();
    let body = json_body(response).await;
    assert_eq!(code, expect, "PATCH {path}: {body}");
    body
}

/// Drives a new test for `technique` to `in_review`, with `detection` as the blue result.
pub async fn test_in_review(
    app: &TestApp,
    crew: &Crew,
    technique: &str,
    detection: &str,
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
        json!({"detection_result": detection}),
        200,
    )
    .await;
    act(app, &crew.blue_tech, &id, "submit-blue", 200).await;
    id
}

pub async fn coverage(app: &TestApp, token: &str, technique: &str) -> String {
    let response = app
        .get(&format!("/api/v1/techniques/{technique}"), token)
        .await;
    assert_eq!(response.status(), 200);
    let body = json_body(response).await;
    body["coverage_status"]
        .as_str()
        .or_else(|| body["summary"]["coverage_status"].as_str())
        .unwrap_or_else(|| panic!("no coverage_status in {body}"))
        .to_owned()
}

async fn notifications_of(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/notifications", token).await;
    assert_eq!(response.status(), 200);
    json_body(response).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn kinds(notes: &[Value]) -> Vec<String> {
    notes
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_test_runs_the_whole_lifecycle(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    assert_eq!(
        coverage(&app, &crew.viewer, "T1059.001").await,
        "not_covered"
    );

    let test = create_test(
        &app,
        &crew.red_lead,
        json!({
            "title": "T1059.001 PowerShell cradle download",
            "technique_id": "t1059.001",
            "objective": "Verify AMSI bypass detection",
            "target_environment": "Windows 10 workstation",
            "severity": "high",
            "platform": "Windows",
            "suggested_tools": ["powershell", " ", "powershell"],
            "assigned_red_id": crew.red_tech_id,
        }),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    assert_eq!(test["state"], "draft");
    assert_eq!(test["technique_id"], "T1059.001");
    assert_eq!(test["platform"], "windows");
    assert_eq!(test["suggested_tools"], json!(["powershell"]));
    assert_eq!(test["version"], 1);
    assert_eq!(
        test["allowed_actions"],
        json!([
            "edit_general",
            "edit_red",
            "edit_remediation",
            "start_execution",
            "upload_red_evidence"
        ])
    );
    assert_eq!(
        coverage(&app, &crew.viewer, "T1059.001").await,
        "in_progress"
    );

    // Red team executes, with the timer running.
    let started = act(&app, &crew.red_tech, &id, "start-execution", 200).await;
    assert_eq!(started["state"], "red_executing");
    assert!(started["timer"]["running"].as_bool().unwrap());
    assert!(started["timer"]["started_at"].is_string());
    let red = patch(
        &app,
        &crew.red_tech,
        &format!("/api/v1/tests/{id}/red"),
        json!({
            "tool_used": "Cobalt Strike 4.8",
            "command_executed": "powershell -nop -w hidden -enc ...",
            "output_observed": "Beacon established on 10.0.0.5",
            "red_notes": "Used staged payload to bypass AV",
            "attacker_ip": "10.10.10.100",
            "target_ip": "10.0.0.5",
            "start_time": "2024-03-15T10:00:00Z",
            "end_time": "2024-03-15T10:15:00Z",
            "version": started["version"],
        }),
        200,
    )
    .await;
    assert_eq!(red["tool_used"], "Cobalt Strike 4.8");
    assert_eq!(red["attacker_ip"], "10.10.10.100");
    let paused = act(&app, &crew.blue_tech, &id, "pause-timer", 200).await;
    assert!(!paused["timer"]["running"].as_bool().unwrap());
    assert!(paused["timer"]["paused_at"].is_string());
    act(&app, &crew.blue_tech, &id, "pause-timer", 409).await;
    let resumed = act(&app, &crew.red_tech, &id, "resume-timer", 200).await;
    assert!(resumed["timer"]["running"].as_bool().unwrap());
    act(&app, &crew.viewer, &id, "pause-timer", 403).await;

    let submitted = act(&app, &crew.red_tech, &id, "submit-red", 200).await;
    assert_eq!(submitted["state"], "blue_evaluating");
    assert!(submitted["timer"]["stopped_at"].is_string());
    assert!(!submitted["timer"]["running"].as_bool().unwrap());
    // The blue team hears about it; the red tech who submitted does not.
    let blue_notes = notifications_of(&app, &crew.blue_tech).await;
    assert_eq!(kinds(&blue_notes), vec!["test.awaiting_blue"]);
    assert_eq!(blue_notes[0]["link"], format!("/tests/{id}"));
    assert!(kinds(&notifications_of(&app, &crew.red_tech).await).is_empty());

    // Blue team evaluates; submitting needs a detection result.
    act(&app, &crew.blue_tech, &id, "submit-blue", 422).await;
    let blue = patch(
        &app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({
            "detection_result": "detected",
            "detection_notes": "Windows Defender ATP alert fired: Suspicious PowerShell",
            "alert_fired": true,
            "alert_name": "ASR rule: Block Office apps from creating child processes",
            "response_action": "Endpoint isolated automatically",
            "time_to_detect_seconds": 47,
            "blue_notes": "AMSI telemetry captured full script content"
        }),
        200,
    )
    .await;
    assert_eq!(blue["time_to_detect_seconds"], 47);
    let review = act(&app, &crew.blue_tech, &id, "submit-blue", 200).await;
    assert_eq!(review["state"], "in_review");
    for lead in [&crew.red_lead, &crew.blue_lead] {
        assert!(kinds(&notifications_of(&app, lead).await).contains(&"test.in_review".to_owned()));
    }
    assert_eq!(
        coverage(&app, &crew.viewer, "T1059.001").await,
        "in_progress"
    );

    // Both leads approve, one after the other.
    let one = vote(&app, &crew.red_lead, &id, "red", "approved", 200).await;
    assert_eq!(one["state"], "in_review");
    assert_eq!(one["red_validation_status"], "approved");
    assert_eq!(one["red_validation_notes"], "red lead says approved");
    assert_eq!(one["red_validated_by"], crew.red_lead_id.as_str());
    assert!(
        one["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a != "validate_red")
    );
    vote(&app, &crew.red_lead, &id, "red", "rejected", 409).await;
    let done = vote(&app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    assert_eq!(done["state"], "validated");
    assert!(done["completed_at"].is_string());
    assert_eq!(coverage(&app, &crew.viewer, "T1059.001").await, "validated");
    // The creator and the assignee hear about it.
    assert!(
        kinds(&notifications_of(&app, &crew.red_lead).await).contains(&"test.validated".to_owned())
    );
    assert!(
        kinds(&notifications_of(&app, &crew.red_tech).await).contains(&"test.validated".to_owned())
    );

    // Remediation stays editable after validation, for leads; steps are ordered.
    let remediation = patch(
        &app,
        &crew.blue_lead,
        &format!("/api/v1/tests/{id}/remediation"),
        json!({
            "remediation_status": "in_progress",
            "remediation_notes": "SIEM rule deployed to block this technique",
            "remediation_owner": crew.blue_lead_id,
            "remediation_due_date": "2026-12-31",
            "steps": [
                {"title": "Write the detection rule", "assignee_id": crew.blue_tech_id},
                {"title": "Deploy to production", "status": "not_started"}
            ]
        }),
        200,
    )
    .await;
    assert_eq!(remediation["remediation_status"], "in_progress");
    assert_eq!(remediation["remediation_due_date"], "2026-12-31");
    let steps = remediation["remediation_steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["title"], "Write the detection rule");
    assert_eq!(steps[0]["position"], 1);
    assert_eq!(steps[0]["assignee_id"], crew.blue_tech_id.as_str());
    assert!(
        kinds(&notifications_of(&app, &crew.blue_tech).await)
            .contains(&"remediation.step_assigned".to_owned())
    );
    // Reorder, update one, drop the other.
    let first = steps[0]["id"].clone();
    let reordered = patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/tests/{id}/remediation"),
        json!({"steps": [
            {"title": "Tune false positives"},
            {"id": first, "title": "Write the detection rule", "status": "done", "assignee_id": crew.blue_tech_id}
        ]}),
        200,
    )
    .await;
    let steps = reordered["remediation_steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["title"], "Tune false positives");
    assert_eq!(steps[1]["id"], first);
    assert_eq!(steps[1]["status"], "done");
    assert_eq!(steps[1]["position"], 2);
    patch(
        &app,
        &crew.red_tech,
        &format!("/api/v1/tests/{id}/remediation"),
        json!({"remediation_status": "done"}),
        403,
    )
    .await;

    // The timeline tells it all, in order.
    let response = app
        .get(&format!("/api/v1/tests/{id}/timeline"), &crew.viewer)
        .await;
    assert_eq!(response.status(), 200);
    let timeline = json_body(response).await;
    let actions: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "test.create",
            "test.transition",
            "test.red_update",
            "test.timer_pause",
            "test.timer_resume",
            "test.transition",
            "test.blue_update",
            "test.transition",
            "test.vote",
            "test.vote",
            "test.transition",
            "test.remediation_update",
            "test.remediation_update",
            "test.remediation_update",
        ]
    );
    let transitions: Vec<(String, String, String)> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "test.transition")
        .map(|e| {
            (
                e["from_state"].as_str().unwrap().to_owned(),
                e["to_state"].as_str().unwrap().to_owned(),
                e["actor_username"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        transitions,
        vec![
            (
                "draft".into(),
                "red_executing".into(),
                "redtech_user".into()
            ),
            (
                "red_executing".into(),
                "blue_evaluating".into(),
                "redtech_user".into()
            ),
            (
                "blue_evaluating".into(),
                "in_review".into(),
                "bluetech_user".into()
            ),
            (
                "in_review".into(),
                "validated".into(),
                "bluelead_user".into()
            ),
        ]
    );
    assert_eq!(
        timeline[8]["summary"],
        "red side approved: red lead says approved"
    );
    assert!(
        timeline[2]["summary"]
            .as_str()
            .unwrap()
            .contains("tool_used")
    );

    // A viewer reads everything and changes nothing.
    let seen = app.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await;
    assert_eq!(seen.status(), 200);
    assert_eq!(json_body(seen).await["allowed_actions"], json!([]));
    app
}

async fn refusals_name_the_role_or_the_state(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    // Technicians and viewers may not create tests.
    for token in [&crew.red_tech, &crew.blue_tech, &crew.viewer] {
        let response = app
            .post_json(
                "/api/v1/tests",
                token,
                json!({"title": "x", "technique_id": "T1059"}),
            )
            .await;
        assert_eq!(response.status(), 403);
        assert!(
            json_body(response).await["detail"]
                .as_str()
                .unwrap()
                .contains("may not create")
        );
    }
    let test = create_test(
        &app,
        &crew.blue_lead,
        json!({"title": "Scheduled task", "technique_id": "T1053"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();

    // Wrong state: 409 naming the state.
    let body = act(&app, &crew.red_tech, id, "submit-red", 409).await;
    assert!(body["detail"].as_str().unwrap().contains("draft"), "{body}");
    act(&app, &crew.blue_tech, id, "submit-blue", 409).await;
    act(&app, &crew.red_lead, id, "reopen", 409).await;
    act(&app, &crew.red_tech, id, "pause-timer", 409).await;
    vote(&app, &crew.red_lead, id, "red", "approved", 409).await;
    patch(
        &app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"blue_notes": "x"}),
        409,
    )
    .await;

    // Wrong role: 403, whatever the state.
    let body = act(&app, &crew.blue_tech, id, "start-execution", 403).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Blue Team Technician"),
        "{body}"
    );
    act(&app, &crew.viewer, id, "start-execution", 403).await;
    vote(&app, &crew.blue_lead, id, "red", "approved", 403).await;
    vote(&app, &crew.red_lead, id, "blue", "approved", 403).await;
    patch(
        &app,
        &crew.red_tech,
        &format!("/api/v1/tests/{id}"),
        json!({"title": "x"}),
        403,
    )
    .await;
    patch(
        &app,
        &crew.viewer,
        &format!("/api/v1/tests/{id}/red"),
        json!({"red_notes": "x"}),
        403,
    )
    .await;

    // A stale version is refused; the current one goes through.
    let edited = patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/tests/{id}"),
        json!({"title": "Scheduled task persistence", "version": 1}),
        200,
    )
    .await;
    assert_eq!(edited["version"], 2);
    let stale = patch(
        &app,
        &crew.blue_lead,
        &format!("/api/v1/tests/{id}"),
        json!({"title": "Overwrite", "version": 1}),
        409,
    )
    .await;
    assert!(
        stale["detail"].as_str().unwrap().contains("version"),
        "{stale}"
    );
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tests/{id}/start-execution"),
            Some(&crew.red_tech),
        )
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tests/{id}/start-execution"),
            Some(&crew.red_tech),
        )
        .json(&json!({"version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // General fields are frozen once execution starts.
    let body = patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/tests/{id}"),
        json!({"title": "x"}),
        409,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("red_executing"),
        "{body}"
    );

    // Unknown tests are 404, malformed ids too.
    let missing = uuid::Uuid::new_v4();
    act(
        &app,
        &crew.red_tech,
        &missing.to_string(),
        "submit-red",
        404,
    )
    .await;
    assert_eq!(
        app.get("/api/v1/tests/not-a-uuid", &crew.viewer)
            .await
            .status(),
        404
    );
    // Anonymous callers get nothing.
    let anonymous = app
        .request(reqwest::Method::GET, "/api/v1/tests", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app
}

async fn rejection_reopen_and_retest_tell_the_whole_story(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let id = test_in_review(&app, &crew, "T1059.004", "not_detected").await;
    let after_red = vote(&app, &crew.red_lead, &id, "red", "approved", 200).await;
    assert_eq!(after_red["state"], "in_review");
    let rejected = vote(&app, &crew.blue_lead, &id, "blue", "rejected", 200).await;
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(
        coverage(&app, &crew.viewer, "T1059.004").await,
        "not_covered"
    );
    // Nothing but reopening (and remediation) in `rejected`; evidence is locked.
    act(&app, &crew.red_tech, &id, "start-execution", 409).await;
    vote(&app, &crew.red_lead, &id, "red", "approved", 409).await;

    let reopened = act(&app, &crew.blue_lead, &id, "reopen", 200).await;
    assert_eq!(reopened["state"], "draft");
    assert!(reopened["red_validation_status"].is_null());
    assert!(reopened["blue_validation_status"].is_null());
    assert_eq!(
        coverage(&app, &crew.viewer, "T1059.004").await,
        "in_progress"
    );

    // Second round: a validated miss is a known gap, `partial`.
    act(&app, &crew.red_tech, &id, "start-execution", 200).await;
    act(&app, &crew.red_tech, &id, "submit-red", 200).await;
    act(&app, &crew.blue_tech, &id, "submit-blue", 200).await;
    vote(&app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    vote(&app, &crew.red_lead, &id, "red", "approved", 200).await;
    assert_eq!(coverage(&app, &crew.viewer, "T1059.004").await, "partial");

    let timeline = json_body(
        app.get(&format!("/api/v1/tests/{id}/timeline"), &crew.viewer)
            .await,
    )
    .await;
    let moves: Vec<String> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "test.transition")
        .map(|e| {
            format!(
                "{}>{}",
                e["from_state"].as_str().unwrap(),
                e["to_state"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            "draft>red_executing",
            "red_executing>blue_evaluating",
            "blue_evaluating>in_review",
            "in_review>rejected",
            "rejected>draft",
            "draft>red_executing",
            "red_executing>blue_evaluating",
            "blue_evaluating>in_review",
            "in_review>validated",
        ]
    );
    let votes: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "test.vote")
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(votes.len(), 4);
    assert_eq!(votes[1], "blue side rejected: blue lead says rejected");

    // A retest, and a retest of the retest: the chain reads oldest first from any member.
    let retest = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Retest", "technique_id": "T1059.004", "retest_of": id}),
    )
    .await;
    let retest_id = retest["id"].as_str().unwrap().to_owned();
    let third = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Third", "technique_id": "T1059.004", "retest_of": retest_id}),
    )
    .await;
    let third_id = third["id"].as_str().unwrap().to_owned();
    for member in [&id, &retest_id, &third_id] {
        let chain = json_body(
            app.get(
                &format!("/api/v1/tests/{member}/retest-chain"),
                &crew.viewer,
            )
            .await,
        )
        .await;
        let ids: Vec<&str> = chain
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            vec![id.as_str(), retest_id.as_str(), third_id.as_str()]
        );
    }
    // No cycles, no self-links, no unknown tests.
    patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/tests/{retest_id}"),
        json!({"retest_of": third_id}),
        422,
    )
    .await;
    patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/tests/{retest_id}"),
        json!({"retest_of": retest_id}),
        422,
    )
    .await;
    let body = patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/tests/{retest_id}"),
        json!({"retest_of": uuid::Uuid::new_v4()}),
        422,
    )
    .await;
    assert!(body["fields"]["retest_of"].is_string());
    // Coverage: the validated miss still stands while retests are under way.
    assert_eq!(coverage(&app, &crew.viewer, "T1059.004").await, "partial");
    app
}

async fn concurrent_votes_both_count(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    for round in 0..25 {
        let id = test_in_review(&app, &crew, "T1059", "detected").await;
        let (red_path, blue_path) = (
            format!("/api/v1/tests/{id}/validate-red"),
            format!("/api/v1/tests/{id}/validate-blue"),
        );
        let (red, blue) = tokio::join!(
            app.post_json(&red_path, &crew.red_lead, json!({"status": "approved"}),),
            app.post_json(&blue_path, &crew.blue_lead, json!({"status": "approved"}),),
        );
        assert_eq!(red.status(), 200, "round {round}");
        assert_eq!(blue.status(), 200, "round {round}");
        let test = json_body(app.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await).await;
        assert_eq!(test["state"], "validated", "round {round}: {test}");
        assert_eq!(test["red_validation_status"], "approved");
        assert_eq!(test["blue_validation_status"], "approved");
    }
    // Concurrent approve and reject: always rejected. The approval counts when it came
    // first; when the rejection came first the test had already left review, and the late
    // vote is refused (409), never silently lost.
    for round in 0..10 {
        let id = test_in_review(&app, &crew, "T1059", "detected").await;
        let (red_path, blue_path) = (
            format!("/api/v1/tests/{id}/validate-red"),
            format!("/api/v1/tests/{id}/validate-blue"),
        );
        let (red, blue) = tokio::join!(
            app.post_json(&red_path, &crew.red_lead, json!({"status": "rejected"})),
            app.post_json(&blue_path, &crew.blue_lead, json!({"status": "approved"})),
        );
        assert_eq!(red.status(), 200, "round {round}");
        let test = json_body(app.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await).await;
        assert_eq!(test["state"], "rejected", "round {round}");
        assert_eq!(test["red_validation_status"], "rejected");
        match blue.status().as_u16() {
            200 => assert_eq!(test["blue_validation_status"], "approved"),
            409 => assert!(test["blue_validation_status"].is_null()),
            other => panic!("round {round}: blue vote answered {other}"),
        }
    }
    app
}

async fn the_list_filters_counts_and_pending_tasks(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let campaign = json_body(
        app.post_json(
            "/api/v1/campaigns",
            &crew.blue_lead,
            json!({"name": "Bravo campaign"}),
        )
        .await,
    )
    .await;
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    let a = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Alpha cradle", "technique_id": "T1059.001", "platform": "windows"}),
    )
    .await;
    let b = create_test(
        &app,
        &crew.blue_lead,
        json!({"title": "Bravo cron", "technique_id": "T1053", "platform": "linux", "campaign_id": campaign}),
    )
    .await;
    let c = test_in_review(&app, &crew, "T1059", "partial").await;
    let b_id = b["id"].as_str().unwrap();
    act(&app, &crew.red_tech, b_id, "start-execution", 200).await;

    let page = |query: &str| {
        let app = &app;
        let token = crew.viewer.clone();
        let query = query.to_owned();
        async move {
            let response = app.get(&format!("/api/v1/tests{query}"), &token).await;
            assert_eq!(response.status(), 200, "{query}");
            json_body(response).await
        }
    };
    let all = page("").await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["counts"]["draft"], 1);
    assert_eq!(all["counts"]["red_executing"], 1);
    assert_eq!(all["counts"]["in_review"], 1);
    assert_eq!(all["counts"]["validated"], 0);
    // Most recently updated first.
    assert_eq!(all["items"][0]["id"].as_str().unwrap(), b_id);

    let drafts = page("?state=draft").await;
    assert_eq!(drafts["total"], 1);
    assert_eq!(drafts["items"][0]["id"], a["id"]);
    assert_eq!(
        drafts["counts"]["in_review"], 1,
        "counters ignore the state filter"
    );
    assert_eq!(page("?technique=t1053").await["total"], 1);
    assert_eq!(page("?platform=Linux").await["total"], 1);
    assert_eq!(page("?search=CRADLE").await["total"], 1);
    assert_eq!(page("?search=100%25").await["total"], 0);
    assert_eq!(page(&format!("?campaign={campaign}")).await["total"], 1);
    let by_creator = app
        .get(
            &format!("/api/v1/tests?creator={}", crew.blue_lead_id),
            &crew.viewer,
        )
        .await;
    assert_eq!(json_body(by_creator).await["total"], 1);
    let waiting_red = page("?pending_validation_side=red").await;
    assert_eq!(waiting_red["total"], 1);
    assert_eq!(waiting_red["items"][0]["id"].as_str().unwrap(), c);
    assert_eq!(
        page("?limit=1&offset=1").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for bad in ["?state=nope", "?pending_validation_side=green", "?limit=0"] {
        let response = app.get(&format!("/api/v1/tests{bad}"), &crew.viewer).await;
        assert_eq!(response.status(), 422, "{bad}");
    }
    assert_eq!(
        app.get("/api/v1/tests?creator=nope", &crew.viewer)
            .await
            .status(),
        400
    );

    // "My pending tasks", per role.
    let mine = |token: String| {
        let app = &app;
        async move {
            let body = json_body(app.get("/api/v1/tests?mine=true", &token).await).await;
            let mut ids: Vec<String> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let a_id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(
        mine(crew.red_tech.clone()).await,
        sorted(vec![a_id.clone(), b_id.to_owned()])
    );
    assert_eq!(mine(crew.blue_tech.clone()).await, Vec::<String>::new());
    assert_eq!(
        mine(crew.red_lead.clone()).await,
        sorted(vec![a_id, b_id.to_owned(), c.clone()])
    );
    assert_eq!(mine(crew.blue_lead.clone()).await, vec![c.clone()]);
    assert_eq!(mine(crew.viewer.clone()).await, Vec::<String>::new());
    vote(&app, &crew.blue_lead, &c, "blue", "approved", 200).await;
    assert_eq!(mine(crew.blue_lead.clone()).await, Vec::<String>::new());
    app
}

async fn field_payloads_are_validated(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let response = app
        .post_json(
            "/api/v1/tests",
            &crew.red_lead,
            json!({"title": " ", "technique_id": "T0000", "severity": "extreme", "assigned_blue_id": crew.red_tech_id}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body = json_body(response).await;
    for field in ["title", "technique_id", "severity", "assigned_blue_id"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let response = app
        .post_json(
            "/api/v1/tests",
            &crew.red_lead,
            json!({"title": "x", "technique_id": "T1059", "colour": "red"}),
        )
        .await;
    assert_eq!(response.status(), 422, "unknown fields are refused");

    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Fields", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    let body = patch(
        &app,
        &crew.red_tech,
        &format!("/api/v1/tests/{id}/red"),
        json!({
            "attacker_ip": "10.0.0.300",
            "target_ip": "fe80::1",
            "start_time": "2024-03-15T10:15:00Z",
            "end_time": "2024-03-15T10:00:00Z"
        }),
        422,
    )
    .await;
    assert!(body["fields"]["attacker_ip"].is_string(), "{body}");
    assert!(body["fields"]["end_time"].is_string(), "{body}");
    assert!(body["fields"].get("target_ip").is_none(), "{body}");
    // Nothing was written by the refused request.
    let unchanged = json_body(app.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await).await;
    assert!(unchanged["target_ip"].is_null());
    assert_eq!(unchanged["version"], 1);
    // Clearing with null works; IPv6 is an IP.
    let ok = patch(
        &app,
        &crew.red_tech,
        &format!("/api/v1/tests/{id}/red"),
        json!({"target_ip": "fe80::1", "tool_used": "nmap"}),
        200,
    )
    .await;
    assert_eq!(ok["target_ip"], "fe80::1");
    let cleared = patch(
        &app,
        &crew.red_tech,
        &format!("/api/v1/tests/{id}/red"),
        json!({"tool_used": null}),
        200,
    )
    .await;
    assert!(cleared["tool_used"].is_null());

    act(&app, &crew.red_tech, id, "start-execution", 200).await;
    act(&app, &crew.red_tech, id, "submit-red", 200).await;
    let body = patch(
        &app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": "maybe", "time_to_detect_seconds": -1}),
        422,
    )
    .await;
    assert!(body["fields"]["detection_result"].is_string(), "{body}");
    assert!(
        body["fields"]["time_to_detect_seconds"].is_string(),
        "{body}"
    );
    let response = app
        .post_json(
            &format!("/api/v1/tests/{id}/validate-red"),
            &crew.red_lead,
            json!({"status": "maybe"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let response = app
        .patch_json(
            &format!("/api/v1/tests/{id}/remediation"),
            &crew.red_lead,
            json!({"remediation_status": "later", "steps": [{"title": ""}]}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body = json_body(response).await;
    assert!(body["fields"]["remediation_status"].is_string(), "{body}");
    assert!(body["fields"]["steps[0].title"].is_string(), "{body}");
    app
}
