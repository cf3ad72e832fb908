//! The job runner through the API: ATT&CK sync over TAXII against a local stand-in for
//! MITRE (paginated, failing, hanging), the GitHub fallback, retries, the scheduler's status
//! and the scheduled jobs themselves.
use crate::common::{Backend, TestApp, json_body, wait_for_run};
use crate::fake_mitre::{FakeMitre, Mode};
use crate::for_each_backend;
use serde_json::Value;

for_each_backend!(
    a_sync_pages_through_taxii,
    a_failing_taxii_falls_back_to_github,
    when_both_sources_fail_the_run_fails_visibly_and_nothing_changes,
    the_scheduler_reports_and_runs_every_job,
    schedules_fire_on_their_own,
    a_run_the_queue_lost_is_queued_again,
);

const FIXTURE: &str = include_str!("../fixtures/attack-mini.json");

/// The real Enterprise bundle when the shared data is present, else the small fixture.
fn bundle() -> (Vec<u8>, bool) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/attack/enterprise-attack.json");
    match std::fs::read(&path) {
        Ok(bytes) => (bytes, true),
        Err(_) => {
            eprintln!(
                "{} is not present: syncing the small fixture instead",
                path.display()
            );
            (FIXTURE.as_bytes().to_vec(), false)
        }
    }
}

async fn sync_now(app: &TestApp, token: &str) -> Value {
    let response = app.post("/api/v1/system/sync-mitre", token).await;
    assert_eq!(response.status(), 202, "a sync is accepted, not awaited");
    json_body(response).await
}

async fn upload_fixture(app: &TestApp, token: &str) {
    let response = app
        .import_bundle(token, "attack-mini.json", FIXTURE.as_bytes().to_vec())
        .await;
    assert_eq!(response.status(), 200);
}

async fn a_sync_pages_through_taxii(backend: Backend) {
    let (bytes, real) = bundle();
    let fake = FakeMitre::start(bytes).await;
    let page_size = if real { 1000 } else { 5 };
    let mut env = fake.env();
    env.push(("AEGIS_ATTACK_TAXII_PAGE_SIZE", page_size.to_string()));
    let app = TestApp::start_with(backend, &env).await;
    let admin = app.admin_token().await;

    let enqueued = sync_now(&app, &admin).await;
    assert_eq!(enqueued["job"], "mitre_sync");
    assert_eq!(enqueued["status"], "queued");
    assert_eq!(enqueued["already_running"], false);
    let id = enqueued["job_id"].as_str().unwrap().to_owned();

    let run = wait_for_run(&app, &admin, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "admin");
    assert_eq!(run["requested_by"], "admin");
    assert_eq!(run["attempts"], 1);
    assert!(run["error"].is_null());
    assert!(run["started_at"].is_string() && run["finished_at"].is_string());
    assert!(
        run["progress"]["stage"].is_string(),
        "the last progress stays visible: {run}"
    );
    let source = run["result"]["source"].as_str().unwrap();
    assert_eq!(
        source,
        format!(
            "taxii:http://{}/taxii/api/v21/collections/{}/objects/",
            fake.addr,
            crate::fake_mitre::COLLECTION
        )
    );

    // Every page asked with the TAXII media type and our limit, following `next`.
    let pages: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.path == "taxii")
        .collect();
    assert_eq!(pages.len(), fake.object_count().div_ceil(page_size));
    assert!(pages.len() > 1, "the collection spans several pages");
    for (n, page) in pages.iter().enumerate() {
        assert_eq!(
            page.accept.as_deref(),
            Some("application/taxii+json;version=2.1")
        );
        assert_eq!(page.query["limit"], page_size.to_string());
        match n {
            0 => assert!(!page.query.contains_key("next")),
            _ => assert_eq!(page.query["next"], format!("offset-{}", n * page_size)),
        }
    }
    assert!(
        fake.seen().iter().all(|s| s.path != "github"),
        "no fallback when TAXII works"
    );

    // The whole collection arrived.
    let tactics = json_body(app.get("/api/v1/tactics", &admin).await).await;
    assert_eq!(tactics.as_array().unwrap().len(), if real { 14 } else { 3 });
    let report = &run["result"]["report"];
    let techniques = json_body(
        app.get("/api/v1/techniques?include_deprecated=true", &admin)
            .await,
    )
    .await;
    assert_eq!(
        report["techniques_added"].as_u64().unwrap(),
        techniques.as_array().unwrap().len() as u64
    );
    if real {
        let active = json_body(app.get("/api/v1/techniques", &admin).await).await;
        assert_eq!(active.as_array().unwrap().len(), 216 + 475);
    }

    // The sync history names the source and the trigger.
    let history = json_body(app.get("/api/v1/system/sync-runs", &admin).await).await;
    assert_eq!(history[0]["status"], "success");
    assert_eq!(history[0]["trigger"], "admin");
    assert_eq!(history[0]["source"], source);

    // A second sync of the same release changes nothing.
    let again = sync_now(&app, &admin).await;
    assert_ne!(again["job_id"], enqueued["job_id"]);
    let run = wait_for_run(&app, &admin, again["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["report"]["techniques_added"], 0);
    assert_eq!(run["result"]["report"]["techniques_updated"], 0);

    // Only admins run jobs or see them.
    app.create_user(&admin, "lea", "red_lead", "red-lead-password-1")
        .await;
    let lead = app.login("lea", "red-lead-password-1").await;
    let response = app.post("/api/v1/system/sync-mitre", &lead).await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.get(&format!("/api/v1/system/jobs/{id}"), &lead)
            .await
            .status(),
        403
    );
    let response = app
        .request(reqwest::Method::POST, "/api/v1/system/sync-mitre", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let unknown = app
        .get(
            &format!("/api/v1/system/jobs/{}", uuid::Uuid::new_v4()),
            &admin,
        )
        .await;
    assert_eq!(unknown.status(), 404);
    assert!(json_body(unknown).await["detail"].is_string());
    assert_eq!(
        app.get("/api/v1/system/jobs/not-a-uuid", &admin)
            .await
            .status(),
        404
    );
    app.finish().await;
}

async fn a_failing_taxii_falls_back_to_github(backend: Backend) {
    let (bytes, real) = bundle();
    let fake = FakeMitre::start(bytes).await;
    fake.set_taxii(Mode::Fail);
    let mut env = fake.env();
    env.push(("AEGIS_HTTP_ATTEMPTS", "2".to_owned()));
    let app = TestApp::start_with(backend, &env).await;
    let admin = app.admin_token().await;

    let id = sync_now(&app, &admin).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = wait_for_run(&app, &admin, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["attempts"], 1, "the fallback is part of one attempt");
    assert_eq!(
        run["result"]["source"],
        format!("github:http://{}/github/enterprise-attack.json", fake.addr)
    );
    let seen = fake.seen();
    assert_eq!(
        seen.iter().filter(|s| s.path == "taxii").count(),
        2,
        "a 500 is retried once (AEGIS_HTTP_ATTEMPTS=2) before falling back"
    );
    assert_eq!(seen.iter().filter(|s| s.path == "github").count(), 1);
    let tactics = json_body(app.get("/api/v1/tactics", &admin).await).await;
    assert_eq!(tactics.as_array().unwrap().len(), if real { 14 } else { 3 });
    let history = json_body(app.get("/api/v1/system/sync-runs", &admin).await).await;
    assert!(
        history[0]["source"]
            .as_str()
            .unwrap()
            .starts_with("github:")
    );
    app.finish().await;
}

async fn when_both_sources_fail_the_run_fails_visibly_and_nothing_changes(backend: Backend) {
    let fake = FakeMitre::start(FIXTURE.as_bytes().to_vec()).await;
    let mut env = fake.env();
    env.push(("AEGIS_HTTP_TIMEOUT_SECS", "1".to_owned()));
    env.push(("AEGIS_HTTP_ATTEMPTS", "1".to_owned()));
    let app = TestApp::start_with(backend, &env).await;
    let admin = app.admin_token().await;
    upload_fixture(&app, &admin).await;
    let before = json_body(
        app.get("/api/v1/techniques?include_deprecated=true", &admin)
            .await,
    )
    .await;

    fake.set_taxii(Mode::Hang);
    fake.set_github(Mode::Missing);
    // Requests at the same moment, and any while the run is queued or running, all join one run.
    let at_once = futures::future::join_all((0..5).map(|_| sync_now(&app, &admin))).await;
    let first = at_once[0].clone();
    for other in &at_once {
        assert_eq!(other["job_id"], first["job_id"], "{at_once:?}");
    }
    assert_eq!(
        at_once
            .iter()
            .filter(|e| e["already_running"] == false)
            .count(),
        1
    );
    let later = sync_now(&app, &admin).await;
    assert_eq!(later["already_running"], true);
    assert_eq!(later["job_id"], first["job_id"]);

    let run = wait_for_run(&app, &admin, first["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["attempts"], 3, "retried with backoff before giving up");
    assert_eq!(run["max_attempts"], 3);
    let error = run["error"].as_str().unwrap();
    for part in [
        "Both ATT&CK sources failed",
        "timed out",
        "404",
        "The knowledge base was not changed",
    ] {
        assert!(error.contains(part), "{part:?} missing from: {error}");
    }
    assert_eq!(
        fake.seen().iter().filter(|s| s.path == "taxii").count(),
        3,
        "one TAXII request per attempt"
    );

    let after = json_body(
        app.get("/api/v1/techniques?include_deprecated=true", &admin)
            .await,
    )
    .await;
    assert_eq!(before, after, "the knowledge base is intact");
    let history = json_body(app.get("/api/v1/system/sync-runs", &admin).await).await;
    assert_eq!(history[0]["status"], "failed");
    assert!(
        history[0]["error"]
            .as_str()
            .unwrap()
            .contains("Both ATT&CK sources failed")
    );
    let status = json_body(app.get("/api/v1/system/scheduler-status", &admin).await).await;
    let sync = &status["jobs"][0];
    assert_eq!(sync["job"], "mitre_sync");
    assert_eq!(sync["last_result"], "failed");
    assert_eq!(sync["running"], false);
    assert_eq!(sync["last_run"]["error"], run["error"]);

    // The runner survives a failed job: the next one runs.
    fake.set_taxii(Mode::Serve);
    let run = wait_for_run(
        &app,
        &admin,
        sync_now(&app, &admin).await["job_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    app.finish().await;
}

async fn the_scheduler_reports_and_runs_every_job(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        &[
            ("AEGIS_SCHEDULE_WEEKLY_SNAPSHOT", "off".to_owned()),
            ("AEGIS_SCHEDULE_MITRE_SYNC", "0 15 4 * * *".to_owned()),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    upload_fixture(&app, &admin).await;

    let status = json_body(app.get("/api/v1/system/scheduler-status", &admin).await).await;
    let jobs = status["jobs"].as_array().unwrap();
    let names: Vec<&str> = jobs.iter().map(|j| j["job"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "mitre_sync",
            "notification_cleanup",
            "weekly_snapshot",
            "atomics_import",
            "caldera_import",
            "lolbas_import",
            "gtfobins_import",
            "intel_scan",
            "sigma_import",
            "elastic_rules_import",
            "d3fend_import",
            "recurring_campaigns",
            "scoring_recompute",
            "compliance_import"
        ]
    );
    for import in jobs[3..7].iter().chain(&jobs[8..11]) {
        assert!(import["schedule"].is_null(), "imports run on demand");
    }
    assert_eq!(jobs[11]["schedule"], "0 15 0 * * *", "daily");
    assert_eq!(jobs[12]["schedule"], "0 45 2 * * *", "daily");
    assert!(
        jobs[13]["schedule"].is_null(),
        "compliance imports run on demand"
    );
    assert_eq!(
        jobs[7]["schedule"], "0 0 6 * * Mon",
        "the weekly intel scan"
    );
    assert_eq!(jobs[0]["schedule"], "0 15 4 * * *");
    let next: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(jobs[0]["next_run"].clone()).unwrap();
    assert!(next > chrono::Utc::now());
    assert_eq!(next.format("%H:%M:%S").to_string(), "04:15:00");
    assert_eq!(jobs[1]["schedule"], "0 30 3 * * *");
    assert!(jobs[1]["next_run"].is_string());
    assert!(jobs[2]["schedule"].is_null(), "disabled by config");
    assert!(jobs[2]["next_run"].is_null());
    for job in jobs {
        assert_eq!(job["running"], false);
        assert!(job["last_run"].is_null());
        assert!(!job["description"].as_str().unwrap().is_empty());
    }

    // Any job can be run now; a disabled schedule does not stop a manual run.
    for job in ["weekly_snapshot", "notification_cleanup"] {
        let response = app
            .post(&format!("/api/v1/system/jobs/{job}/run"), &admin)
            .await;
        assert_eq!(response.status(), 202);
        let enqueued = json_body(response).await;
        assert_eq!(enqueued["job"], job);
        let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["trigger"], "admin");
    }
    let status = json_body(app.get("/api/v1/system/scheduler-status", &admin).await).await;
    for job in &status["jobs"].as_array().unwrap()[1..3] {
        assert_eq!(job["last_result"], "succeeded", "{job}");
    }
    let snapshot = &status["jobs"][2]["last_run"]["result"];
    assert!(snapshot["snapshot_id"].is_string(), "{snapshot}");
    assert_eq!(status["jobs"][1]["last_run"]["result"]["deleted"], 0);

    let runs = json_body(app.get("/api/v1/system/jobs", &admin).await).await;
    assert_eq!(runs.as_array().unwrap().len(), 2);
    let audit = json_body(app.get("/api/v1/audit-logs?action=job.run", &admin).await).await;
    assert_eq!(audit["total"], 2, "who ran what is audited: {audit}");
    assert_eq!(audit["items"][0]["entity_id"], runs[0]["id"]);
    assert_eq!(runs[0]["job"], "notification_cleanup", "newest first");

    let response = app.post("/api/v1/system/jobs/defragment/run", &admin).await;
    assert_eq!(response.status(), 404);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("Unknown job 'defragment'")
    );
    app.create_user(&admin, "vic", "viewer", "viewer-password-1")
        .await;
    let viewer = app.login("vic", "viewer-password-1").await;
    assert_eq!(
        app.get("/api/v1/system/scheduler-status", &viewer)
            .await
            .status(),
        403
    );
    app.finish().await;
}

async fn schedules_fire_on_their_own(backend: Backend) {
    // Every second, so the test sees the scheduler at work without waiting for 03:30.
    let app = TestApp::start_with(
        backend,
        &[(
            "AEGIS_SCHEDULE_NOTIFICATION_CLEANUP",
            "* * * * * *".to_owned(),
        )],
    )
    .await;
    let admin = app.admin_token().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let run = loop {
        let runs = json_body(app.get("/api/v1/system/jobs", &admin).await).await;
        if let Some(run) = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == "succeeded")
        {
            break run.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled run finished: {runs}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(run["job"], "notification_cleanup");
    assert_eq!(run["trigger"], "schedule");
    assert_eq!(run["requested_by"], "scheduler");
    app.finish().await;
}

/// A run recorded as queued that never reached the queue (as apalis has been seen to lose one
/// under a long SQLite write) is handed to it again by the watchdog once the worker is idle.
async fn a_run_the_queue_lost_is_queued_again(backend: Backend) {
    use app::server::entities::job_run;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::start(backend).await;
    let admin = app.admin_token().await;
    let id = uuid::Uuid::new_v4();
    job_run::ActiveModel {
        id: Set(id),
        job: Set("notification_cleanup".into()),
        trigger: Set("admin".into()),
        requested_by: Set(Some("admin".into())),
        status: Set("queued".into()),
        attempts: Set(0),
        max_attempts: Set(3),
        progress: Set(None),
        result: Set(None),
        error: Set(None),
        enqueued_at: Set(chrono::Utc::now() - chrono::Duration::minutes(1)),
        started_at: Set(None),
        finished_at: Set(None),
        params: Set(None),
        scheduled_for: Set(None),
        heartbeat_at: Set(None),
    }
    .insert(&app.database().await)
    .await
    .unwrap();
    let run = wait_for_run(&app, &admin, &id.to_string()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["attempts"], 1, "{run}");
    app.finish().await;
}
