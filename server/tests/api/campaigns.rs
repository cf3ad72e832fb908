//! Campaigns through the API: ATT&CK's campaigns from the bundle, creating and changing a
//! campaign with every validation error, generating its tests (idempotently), adding and
//! removing tests, the test's own campaign field, progress, completion (with the owner told
//! and `campaign.completed` audited), the database refusing unknown campaigns, and recurring
//! campaigns spawned exactly once per period.
use crate::common::{TestApp, json_body, wait_for_run};
use crate::on_both_backends;
use crate::workflow::{Crew, act, create_test, patch, vote};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

on_both_backends!(
    campaigns_plan_generate_and_complete,
    recurring_campaigns_spawn_each_period_once
);

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = match method {
        "POST" => app.post_json(path, token, body).await,
        "PATCH" => app.patch_json(path, token, body).await,
        _ => app.get(path, token).await,
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Takes a draft test through to `in_review` with `detection`.
async fn to_review(app: &TestApp, crew: &Crew, id: &str, detection: &str) {
    act(app, &crew.red_tech, id, "start-execution", 200).await;
    act(app, &crew.red_tech, id, "submit-red", 200).await;
    patch(
        app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": detection}),
        200,
    )
    .await;
    act(app, &crew.blue_tech, id, "submit-blue", 200).await;
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["technique_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn campaigns_plan_generate_and_complete(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;

    // ATT&CK's campaigns come with the bundle: only active links to current objects.
    let (status, attack) = call(
        &app,
        "GET",
        "/api/v1/attack-campaigns",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(attack.as_array().unwrap().len(), 1, "{attack}");
    assert_eq!(attack[0]["mitre_id"], "C0001");
    assert_eq!(attack[0]["techniques"], json!(["T1053", "T1059.001"]));
    assert_eq!(attack[0]["actors"], json!(["G0006"]));
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/attack-campaigns/c0001",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/attack-campaigns/C9999",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 404);

    // Only leads and admins plan campaigns; every mistake names its field.
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/campaigns",
        &crew.red_tech,
        json!({"name": "Nope"}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(201)}), "name"),
        (
            json!({"name": "A", "threat_actor": "G9999"}),
            "threat_actor",
        ),
        (
            json!({"name": "A", "attack_campaign": "C9999"}),
            "attack_campaign",
        ),
        (
            json!({"name": "A", "technique_set": "No such set"}),
            "technique_set",
        ),
        (
            json!({"name": "A", "owner_id": crew.red_tech_id}),
            "owner_id",
        ),
        (json!({"name": "A", "status": "paused"}), "status"),
        (
            json!({"name": "A", "start_date": "2026-03-02", "end_date": "2026-03-01"}),
            "end_date",
        ),
        (
            json!({"name": "A", "recurrence": {"every": "weekly"}}),
            "recurrence",
        ),
        (
            json!({"name": "A", "start_date": "2026-03-02", "recurrence": {"every": "days", "days": 0}}),
            "recurrence",
        ),
    ] {
        let (status, answer) = call(
            &app,
            "POST",
            "/api/v1/campaigns",
            &crew.red_lead,
            body.clone(),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let (status, answer) = call(
        &app,
        "POST",
        "/api/v1/campaigns",
        &crew.red_lead,
        json!({"name": "A", "colour": "red"}),
    )
    .await;
    assert!(status == 400 || status == 422, "{status} {answer}");
    assert!(answer["detail"].is_string());

    let (status, campaign) = call(
        &app,
        "POST",
        "/api/v1/campaigns",
        &crew.red_lead,
        json!({
            "name": "Operation Mini emulation",
            "objective": "Prove we see Operation Mini",
            "attack_campaign": "C0001",
            "target_environment": "Lab",
            "start_date": "2026-12-01",
            "end_date": "2026-12-31",
            "owner_id": crew.blue_lead_id,
        }),
    )
    .await;
    assert_eq!(status, 201, "{campaign}");
    assert_eq!(campaign["status"], "planned");
    assert_eq!(campaign["attack_campaign"]["mitre_id"], "C0001");
    assert_eq!(campaign["owner_name"], "bluelead_user");
    assert_eq!(campaign["tests"]["total"], 0);
    let id = campaign["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/campaigns/{id}");

    // Generating drafts one test per technique, and is idempotent.
    let (status, generated) = call(
        &app,
        "POST",
        &format!("{base}/generate"),
        &crew.red_lead,
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{generated}");
    assert_eq!(ids(&generated["created"]), ["T1053", "T1059.001"]);
    assert_eq!(generated["created"][0]["title"], "T1053 Scheduled Task/Job");
    assert_eq!(generated["created"][0]["state"], "draft");
    assert_eq!(generated["created"][0]["campaign_id"], id.as_str());
    assert!(generated["skipped"].as_array().unwrap().is_empty());
    let (_, again) = call(
        &app,
        "POST",
        &format!("{base}/generate"),
        &crew.red_lead,
        json!({}),
    )
    .await;
    assert!(again["created"].as_array().unwrap().is_empty(), "{again}");
    assert_eq!(again["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(again["skipped"][0]["reason"], "already in the campaign");
    let (status, answer) = call(
        &app,
        "POST",
        &format!("{base}/generate"),
        &crew.red_lead,
        json!({"from": "technique_set"}),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    let (status, answer) = call(
        &app,
        "POST",
        &format!("{base}/generate"),
        &crew.red_lead,
        json!({"from": "everything"}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    // A bare POST generates from everything the campaign names.
    let bare = app.post(&format!("{base}/generate"), &crew.red_lead).await;
    assert_eq!(bare.status(), 201);

    // The actor's techniques add what the campaign lacks.
    let updated = patch(
        &app,
        &crew.red_lead,
        &base,
        json!({"threat_actor": "G0046", "status": "active"}),
        200,
    )
    .await;
    assert_eq!(updated["threat_actor"]["mitre_id"], "G0046");
    assert_eq!(updated["status"], "active");
    let (_, from_actor) = call(
        &app,
        "POST",
        &format!("{base}/generate"),
        &crew.red_lead,
        json!({"from": "threat_actor"}),
    )
    .await;
    let created = ids(&from_actor["created"]);
    assert!(!created.is_empty(), "{from_actor}");
    let generated_ids: Vec<String> = generated["created"]
        .as_array()
        .unwrap()
        .iter()
        .chain(from_actor["created"].as_array().unwrap())
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();

    // Existing tests join (drafts or rejected only) and leave; the test's own field agrees.
    let own = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Extra", "technique_id": "T1595", "campaign_id": id}),
    )
    .await;
    assert_eq!(own["campaign_id"], id.as_str());
    let (status, answer) = call(
        &app,
        "POST",
        "/api/v1/tests",
        &crew.red_lead,
        json!({"title": "Lost", "technique_id": "T1595", "campaign_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(answer["fields"]["campaign_id"].is_string(), "{answer}");
    let loose = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Loose", "technique_id": "T1059"}),
    )
    .await;
    let loose_id = loose["id"].as_str().unwrap().to_owned();
    let running = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Running", "technique_id": "T1059"}),
    )
    .await;
    let running_id = running["id"].as_str().unwrap().to_owned();
    act(&app, &crew.red_tech, &running_id, "start-execution", 200).await;
    let (status, answer) = call(
        &app,
        "POST",
        &format!("{base}/tests"),
        &crew.red_lead,
        json!({"test_ids": [running_id]}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["fields"][format!("test_ids.{running_id}")]
            .as_str()
            .unwrap()
            .contains("draft or rejected")
    );
    let (status, answer) = call(
        &app,
        "POST",
        &format!("{base}/tests"),
        &crew.red_lead,
        json!({"test_ids": []}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let (status, _) = call(
        &app,
        "POST",
        &format!("{base}/tests"),
        &crew.red_tech,
        json!({"test_ids": [loose_id]}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, added) = call(
        &app,
        "POST",
        &format!("{base}/tests"),
        &crew.red_lead,
        json!({"test_ids": [loose_id, own["id"]]}),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["added"], json!([loose_id]));
    assert_eq!(added["unchanged"], json!([own["id"]]));
    let listed = json_body(
        app.get(
            &format!("/api/v1/tests?campaign={id}&limit=100"),
            &crew.viewer,
        )
        .await,
    )
    .await;
    let members = generated_ids.len() + 2;
    assert_eq!(listed["total"], members as u64, "{listed}");
    let removed = app
        .delete(&format!("{base}/tests/{loose_id}"), &crew.red_lead)
        .await;
    assert_eq!(removed.status(), 204);
    let removed = app
        .delete(&format!("{base}/tests/{loose_id}"), &crew.red_lead)
        .await;
    assert_eq!(removed.status(), 404);
    let timeline = json_body(
        app.get(&format!("/api/v1/tests/{loose_id}/timeline"), &crew.viewer)
            .await,
    )
    .await;
    assert!(timeline.to_string().contains("campaign_id"), "{timeline}");

    // The database itself refuses a test naming an unknown campaign.
    let db = app.database().await;
    let refused = sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!(
            "UPDATE tests SET campaign_id = '{}' WHERE title = 'Loose'",
            uuid::Uuid::new_v4()
        ),
    )
    .await;
    assert!(refused.is_err(), "an unknown campaign must be refused");

    // Work through the campaign: one detected, one missed, the rest rejected.
    let mut work = generated_ids.clone();
    work.push(own["id"].as_str().unwrap().to_owned());
    app.post_json(
        &format!("/api/v1/tests/{}/worklog", work[0]),
        &crew.red_tech,
        json!({"minutes": 90}),
    )
    .await;
    for (n, test) in work.iter().enumerate() {
        let detection = if n == 0 { "detected" } else { "not_detected" };
        to_review(&app, &crew, test, detection).await;
        vote(&app, &crew.red_lead, test, "red", "approved", 200).await;
        let verdict = if n < 2 { "approved" } else { "rejected" };
        vote(&app, &crew.blue_lead, test, "blue", verdict, 200).await;
        let (_, now) = call(&app, "GET", &base, &crew.viewer, json!(null)).await;
        let expected = if n + 1 == work.len() {
            "completed"
        } else {
            "active"
        };
        assert_eq!(now["status"], expected, "after test {n}: {now}");
    }
    let (status, progress) = call(
        &app,
        "GET",
        &format!("{base}/progress"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(progress["percent_finished"], 100);
    assert_eq!(progress["tests"]["total"], work.len() as u64);
    assert_eq!(progress["tests"]["by_state"]["validated"], 2);
    assert_eq!(
        progress["tests"]["by_state"]["rejected"],
        (work.len() - 2) as u64
    );
    assert_eq!(progress["techniques_covered"], 1, "{progress}");
    assert_eq!(progress["techniques_partial"], 1, "{progress}");
    assert_eq!(progress["time_spent_minutes"], 90);
    assert_eq!(progress["open_remediations"], 1);
    assert!(!progress["by_tactic"].as_array().unwrap().is_empty());

    // The owner was told, and the completion is audited.
    let notes = json_body(app.get("/api/v1/notifications", &crew.blue_lead).await).await;
    assert!(notes.to_string().contains("campaign_completed"), "{notes}");
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=campaign.completed", &crew.admin)
            .await,
    )
    .await;
    assert_eq!(audit["total"], 1, "{audit}");

    // The dashboard and the reports keep to the campaign's tests and techniques.
    let (status, summary) = call(
        &app,
        "GET",
        &format!("/api/v1/metrics/summary?campaign={id}"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["total_tests"], work.len() as u64, "{summary}");
    assert_eq!(
        summary["techniques"]["total"],
        work.len() as u64,
        "one technique per test: {summary}"
    );
    let (_, all) = call(
        &app,
        "GET",
        "/api/v1/metrics/summary",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert!(all["total_tests"].as_u64().unwrap() > work.len() as u64);
    let (status, results) = call(
        &app,
        "GET",
        &format!("/api/v1/reports/test-results?campaign={id}&state=validated"),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results["total"], 2, "{results}");
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/metrics/summary?campaign=nope",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(
        &app,
        "GET",
        &format!(
            "/api/v1/reports/coverage-summary?campaign={}",
            uuid::Uuid::new_v4()
        ),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 400);

    // A completed campaign takes no more tests; everyone reads, filters and searches.
    let fresh = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Late", "technique_id": "T1059"}),
    )
    .await;
    let (status, _) = call(
        &app,
        "POST",
        &format!("{base}/tests"),
        &crew.red_lead,
        json!({"test_ids": [fresh["id"]]}),
    )
    .await;
    assert_eq!(status, 409);
    let (_, list) = call(
        &app,
        "GET",
        "/api/v1/campaigns?status=completed&search=mini",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["tests"]["finished"], work.len() as u64);
    let (_, none) = call(
        &app,
        "GET",
        "/api/v1/campaigns?status=planned",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(none["total"], 0);
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/campaigns?status=paused",
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(
        &app,
        "GET",
        &format!("/api/v1/campaigns/{}", uuid::Uuid::new_v4()),
        &crew.viewer,
        json!(null),
    )
    .await;
    assert_eq!(status, 404);
    // A lead reopens and then cancels it.
    let reopened = patch(
        &app,
        &crew.blue_lead,
        &base,
        json!({"status": "active"}),
        200,
    )
    .await;
    assert!(reopened["completed_at"].is_null());
    patch(
        &app,
        &crew.blue_lead,
        &base,
        json!({"status": "cancelled", "end_date": null}),
        200,
    )
    .await;
    patch(&app, &crew.viewer, &base, json!({"name": "Mine"}), 403).await;
    app
}

async fn recurring_campaigns_spawn_each_period_once(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let start = (Utc::now() - Duration::days(8)).date_naive();
    let (status, series) = call(
        &app,
        "POST",
        "/api/v1/campaigns",
        &crew.red_lead,
        json!({
            "name": "Weekly hygiene",
            "start_date": start,
            "recurrence": {"every": "weekly"},
            "status": "active",
        }),
    )
    .await;
    assert_eq!(status, 201, "{series}");
    assert_eq!(series["recurrence"], json!({"every": "weekly"}));
    let id = series["id"].as_str().unwrap().to_owned();
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Weekly PowerShell", "technique_id": "T1059.001", "campaign_id": id,
               "assigned_red_id": crew.red_tech_id, "assigned_blue_id": crew.blue_tech_id}),
    )
    .await;

    // Two runs of the job (and two processes at once) spawn the period once.
    let db = app.database().await;
    let twin_db = app.database().await;
    let actor = app::server::platform::context::Actor::system("test");
    let today = Utc::now().date_naive();
    let (a, b) = tokio::join!(
        app::server::campaigns::recurring::spawn_due(&db, &actor, today),
        app::server::campaigns::recurring::spawn_due(&twin_db, &actor, today),
    );
    let spawned = a.unwrap().spawned.len() + b.unwrap().spawned.len();
    assert_eq!(spawned, 1);
    let run = json_body(
        app.post("/api/v1/system/jobs/recurring_campaigns/run", &crew.admin)
            .await,
    )
    .await;
    let finished = wait_for_run(&app, &crew.admin, run["job_id"].as_str().unwrap()).await;
    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert_eq!(finished["result"]["spawned"], json!([]), "{finished}");
    assert_eq!(finished["result"]["up_to_date"], 1);

    let detail = json_body(
        app.get(&format!("/api/v1/campaigns/{id}"), &crew.viewer)
            .await,
    )
    .await;
    let runs = detail["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{detail}");
    assert_eq!(runs[0]["period"], 1);
    let run_id = runs[0]["id"].as_str().unwrap();
    let week = (start + Duration::days(7)).format("%G-W%V").to_string();
    assert_eq!(runs[0]["name"], format!("Weekly hygiene — {week}"));
    let retests = json_body(
        app.get(&format!("/api/v1/tests?campaign={run_id}"), &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(retests["total"], 1, "{retests}");
    let retest = &retests["items"][0];
    assert_eq!(retest["retest_of"], test["id"]);
    assert_eq!(retest["state"], "draft");
    assert_eq!(retest["assigned_red_id"], crew.red_tech_id.as_str());
    assert_eq!(retest["assigned_blue_id"], crew.blue_tech_id.as_str());
    let spawned_run = json_body(
        app.get(&format!("/api/v1/campaigns/{run_id}"), &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(spawned_run["series_id"], id.as_str());
    assert!(spawned_run["recurrence"].is_null());
    // Only the series' first campaign sets the recurrence.
    patch(
        &app,
        &crew.red_lead,
        &format!("/api/v1/campaigns/{run_id}"),
        json!({"recurrence": {"every": "monthly"}}),
        422,
    )
    .await;
    app
}
