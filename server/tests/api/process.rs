//! The server process stopped politely (SIGTERM) and killed (SIGKILL): in-flight work
//! finishes or is taken up again, nothing is left half-done, nothing runs twice.
use crate::common::{Backend, ServerProcess, TestApp, json_body};
use crate::fake_mitre::{FakeMitre, Mode};
use crate::workflow::{BUNDLE, Crew, act, create_test};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDARY: &str = "aegis-test-boundary";

/// An evidence upload written by hand over one connection, so the test decides when each
/// part of the body leaves: the head and the form's start, then [`SlowUpload::finish`].
struct SlowUpload {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowUpload {
    async fn start(addr: std::net::SocketAddr, token: &str, test: &str, size: usize) -> Self {
        let mut start = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"team\"\r\n\r\nred\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"run.log\"\r\n\
             Content-Type: text/plain\r\n\r\n"
        )
        .into_bytes();
        let mut rest = vec![b'x'; size / 2];
        rest.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        start.extend(std::iter::repeat_n(b'x', size - size / 2));
        let head = format!(
            "POST /api/v1/tests/{test}/evidence HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            start.len() + rest.len()
        );
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&start).await.unwrap();
        stream.flush().await.unwrap();
        SlowUpload { stream, rest }
    }

    /// Sends the rest and reads the answer's status.
    async fn finish(mut self) -> u16 {
        self.stream.write_all(&self.rest).await.unwrap();
        let mut answer = Vec::new();
        self.stream.read_to_end(&mut answer).await.unwrap();
        let text = String::from_utf8_lossy(&answer);
        text.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {text}"))
    }
}

async fn token_on(app: &TestApp, server: &ServerProcess, user: &str, password: &str) -> String {
    let response = app
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json_body(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn red_evidence(app: &TestApp, test: &str, token: &str) -> Vec<Value> {
    json_body(app.get(&format!("/api/v1/tests/{test}"), token).await).await["red_evidence"]
        .as_array()
        .unwrap()
        .clone()
}

async fn test_in_progress(app: &TestApp, crew: &Crew) -> String {
    let test = create_test(
        app,
        &crew.red_lead,
        json!({"title": "Shutdown", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    act(app, &crew.red_tech, &id, "start-execution", 200).await;
    id
}

/// SIGTERM: the listener closes at once, the upload in flight completes and is recorded,
/// and the process exits 0 well within the grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_what_is_in_flight_and_exits_0() {
    let app = TestApp::start(Backend::Postgres).await;
    let crew = Crew::hire(&app).await;
    let test = test_in_progress(&app, &crew).await;
    let mut server = app
        .spawn_process(&[("AEGIS_SHUTDOWN_GRACE_SECS", "15".to_owned())])
        .await;
    let token = token_on(&app, &server, "redtech_user", crate::workflow::PASSWORD).await;

    let upload = SlowUpload::start(server.addr, &token, &test, 200_000).await;
    // The server is reading the body when the signal comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    server.terminate();
    // New connections are refused once the listener is closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if TcpStream::connect(server.addr).await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(upload.finish().await, 201, "the upload in flight completed");
    let status = server
        .exit_within(Duration::from_secs(15))
        .await
        .expect("exited within the grace period");
    assert!(status.success(), "exit status {status:?}");
    assert!(signalled.elapsed() < Duration::from_secs(15));
    let evidence = red_evidence(&app, &test, &crew.viewer).await;
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert_eq!(evidence[0]["size_bytes"], 200_000);
    app.finish().await;
}

/// SIGKILL mid-upload: no row; what the upload had written is removed when a server starts
/// (once it is old enough not to be another upload about to be recorded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_leaves_no_row_and_no_object() {
    let app = TestApp::start(Backend::Postgres).await;
    let crew = Crew::hire(&app).await;
    let test = test_in_progress(&app, &crew).await;
    let data = std::env::temp_dir().join(format!("aegis-killed-{}", uuid::Uuid::new_v4()));
    let same_folder = [
        ("AEGIS_DATA_DIR", data.display().to_string()),
        ("AEGIS_SITE_ROOT", data.join("site").display().to_string()),
    ];
    let mut server = app.spawn_process(&same_folder).await;
    let token = token_on(&app, &server, "redtech_user", crate::workflow::PASSWORD).await;
    // Larger than a part (5 MB): the store has started writing when the kill comes.
    let upload = SlowUpload::start(server.addr, &token, &test, 12 * 1024 * 1024).await;
    let evidence_dir = data.join("evidence").join("evidence").join(&test);
    let deadline = Instant::now() + Duration::from_secs(20);
    let staged = loop {
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(&evidence_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        if !files.is_empty() {
            break files;
        }
        assert!(
            Instant::now() < deadline,
            "the upload never reached the store"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.kill();
    drop(upload);
    assert!(red_evidence(&app, &test, &crew.viewer).await.is_empty());
    // An hour later (the files aged by hand), the next start removes what was left.
    for file in &staged {
        if file.exists() {
            let status = std::process::Command::new("touch")
                .args(["-d", "2 hours ago"])
                .arg(file)
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let _server = app.spawn_process(&same_folder).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while staged.iter().any(|f| f.exists()) {
        assert!(Instant::now() < deadline, "left over: {staged:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(red_evidence(&app, &test, &crew.viewer).await.is_empty());
    let _ = std::fs::remove_dir_all(&data);
    app.finish().await;
}

/// SIGKILL mid-import: the run is taken up again by the next server (its heartbeat went
/// stale), runs once more and succeeds; the knowledge base was untouched until then and is
/// complete after; one run, one successful sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_import_is_taken_up_again_once() {
    let mitre = FakeMitre::start(BUNDLE.as_bytes().to_vec()).await;
    let mut env = mitre.env();
    env.push(("AEGIS_JOB_HEARTBEAT_MS", "200".to_owned()));
    // The test's own server only serves: the runs go to the server processes.
    let mut web_only = env.clone();
    web_only.push(("AEGIS_JOB_WORKER", "false".to_owned()));
    let app = TestApp::start_with(Backend::Postgres, &web_only).await;
    env.push(("AEGIS_JOB_WORKER", "true".to_owned()));
    let admin = app.admin_token().await;
    mitre.set_taxii(Mode::Hang);
    mitre.set_github(Mode::Hang);
    let mut first = app.spawn_process(&env).await;
    let token = token_on(&app, &first, "admin", crate::common::ADMIN_PASSWORD).await;
    let response = app
        .client
        .post(first.url("/api/v1/system/sync-mitre"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let run = json_body(response).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status_of = |run: String| {
        let app = &app;
        let admin = admin.clone();
        async move { json_body(app.get(&format!("/api/v1/system/jobs/{run}"), &admin).await).await }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_of(run.clone()).await["status"] != "running" {
        assert!(Instant::now() < deadline, "the run never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    let techniques = json_body(app.get("/api/v1/techniques", &admin).await).await;
    assert_eq!(
        techniques.as_array().unwrap().len(),
        0,
        "nothing half-imported"
    );

    mitre.set_taxii(Mode::Serve);
    mitre.set_github(Mode::Serve);
    let _second = app.spawn_process(&env).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let state = status_of(run.clone()).await;
        if state["status"] == "succeeded" || state["status"] == "failed" {
            break state;
        }
        assert!(Instant::now() < deadline, "not taken up again: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert_eq!(finished["attempts"], 2, "{finished}");
    let techniques = json_body(app.get("/api/v1/techniques", &admin).await).await;
    assert!(!techniques.as_array().unwrap().is_empty());
    let runs = json_body(app.get("/api/v1/system/jobs", &admin).await).await;
    let syncs: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == "mitre_sync")
        .collect();
    assert_eq!(syncs.len(), 1, "{runs}");
    let history = json_body(app.get("/api/v1/system/sync-runs", &admin).await).await;
    let succeeded = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "success" || r["status"] == "succeeded")
        .count();
    assert_eq!(succeeded, 1, "{history}");
    app.finish().await;
}
