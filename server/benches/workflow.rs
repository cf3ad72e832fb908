//! The test workflow's performance targets (issue 4), on PostgreSQL with 50,000 tests:
//! - the tests list, filtered, one page: median < 30 ms;
//! - a state transition with its audit entry and notifications: < 20 ms;
//! - a 100 MB evidence upload: < 50 MB of extra server memory.
//!
//! Run with `cargo bench -p server --bench workflow` (release profile). Prints a Markdown table
//! for BENCHMARKS.md. Needs PostgreSQL on 127.0.0.1:5432; skips with a reason without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::domain::values::DetectionResult;
use app::domain::workflow::{TestState, Vote};
use app::server::entities::security_test;
use app::server::workflow::rows::{NewTest, draft_row};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use server::config::Config;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TESTS: usize = 50_000;
const REQUESTS: usize = 200;
const UPLOAD_BYTES: usize = 100 * 1024 * 1024;
const ADMIN_PASSWORD: &str = "bench-admin-password";

fn fixture() -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attack-mini.json"))
        .unwrap()
}

fn config(database_url: &str, dir: &std::path::Path) -> Config {
    let mut vars = HashMap::new();
    vars.insert("DATABASE_URL", database_url.to_owned());
    vars.insert("AEGIS_DATA_DIR", dir.display().to_string());
    vars.insert(
        "AEGIS_SECRET_KEY",
        "bench-secret-key-that-is-long-enough-0123456789".to_owned(),
    );
    vars.insert("AEGIS_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned());
    vars.insert("AEGIS_BIND", "127.0.0.1:0".to_owned());
    vars.insert("AEGIS_SITE_ROOT", dir.join("site").display().to_string());
    vars.insert("AEGIS_SCHEDULE_MITRE_SYNC", "off".to_owned());
    Config::from_lookup(|name| vars.get(name).cloned()).unwrap()
}

async fn serve(config: &Config) -> (SocketAddr, app::server::platform::state::AppState) {
    let (state, _) = server::bootstrap(config).await.unwrap();
    let router = server::router(state.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (addr, state)
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn token(&self, username: &str, password: &str) -> String {
        let login: serde_json::Value = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["access_token"].as_str().unwrap().to_owned()
    }

    async fn user(&self, admin: &str, username: &str, role: &str) -> (String, String) {
        let created: serde_json::Value = self
            .client
            .post(format!("{}/api/v1/users", self.base))
            .bearer_auth(admin)
            .json(&serde_json::json!({"username": username, "password": ADMIN_PASSWORD, "role": role}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        (id, self.token(username, ADMIN_PASSWORD).await)
    }

    async fn import_fixture(&self, admin: &str) {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(fixture()).file_name("attack-mini.json"),
        );
        let response = self
            .client
            .post(format!("{}/api/v1/system/import-attack-bundle", self.base))
            .bearer_auth(admin)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

const TECHNIQUES: [&str; 5] = ["T1059", "T1059.001", "T1059.004", "T1053", "T1595"];
const STATES: [TestState; 6] = TestState::ALL;
const PLATFORMS: [&str; 3] = ["windows", "linux", "macos"];

/// 50,000 tests spread over states, techniques, platforms and creators, inserted directly.
async fn seed(db: &sea_orm::DatabaseConnection, creators: &[uuid::Uuid]) {
    let now = chrono::Utc::now();
    for batch in 0..TESTS / 1000 {
        let rows = (0..1000).map(|i| {
            let n = batch * 1000 + i;
            let state = STATES[n % STATES.len()];
            let done = matches!(state, TestState::Validated | TestState::Rejected);
            let created = now - chrono::Duration::seconds(n as i64);
            // The row the workflow would insert for this draft, moved on to `state`.
            let mut row = draft_row(
                uuid::Uuid::new_v4(),
                NewTest {
                    title: format!("Seeded test {n}"),
                    technique_id: TECHNIQUES[n % TECHNIQUES.len()].into(),
                    objective: "Seeded".into(),
                    platform: Some(PLATFORMS[n % PLATFORMS.len()].into()),
                    created_by: creators[n % creators.len()],
                    ..NewTest::default()
                },
                created,
            );
            row.state = state;
            row.detection_result = done.then_some(DetectionResult::Detected);
            row.red_validation_status = done.then_some(Vote::Approved);
            row.into_active_model().reset_all()
        });
        security_test::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    sea_orm::ConnectionTrait::execute_unprepared(db, "ANALYZE tests")
        .await
        .unwrap();
}

async fn timed_get(api: &Api, token: &str, path: &str) -> Vec<Duration> {
    let url = format!("{}{path}", api.base);
    for _ in 0..10 {
        let _ = api
            .client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
    }
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = api
            .client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
        let _ = response.bytes().await.unwrap();
        samples.push(started.elapsed());
    }
    samples
}

async fn list_and_transitions() -> Option<Vec<String>> {
    let admin_db = sea_orm::Database::connect(PG_ADMIN_URL).await.ok()?;
    let name = format!("aegis_bench_{}", uuid::Uuid::new_v4().simple());
    sea_orm::ConnectionTrait::execute_unprepared(&admin_db, &format!("CREATE DATABASE {name}"))
        .await
        .ok()?;
    let dir = std::env::temp_dir().join(format!("aegis-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config(&format!("postgres://postgres@127.0.0.1:5432/{name}"), &dir);
    let (addr, state) = serve(&config).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("http://{addr}"),
    };
    let admin = api.token("admin", ADMIN_PASSWORD).await;
    api.import_fixture(&admin).await;
    let (red_lead_id, red_lead) = api.user(&admin, "bench_red_lead", "red_lead").await;
    let (_, red_tech) = api.user(&admin, "bench_red_tech", "red_tech").await;
    for i in 0..10 {
        api.user(&admin, &format!("bench_blue_{i}"), "blue_tech")
            .await;
    }
    let seeding = Instant::now();
    let creators = [uuid::Uuid::parse_str(&red_lead_id).unwrap()];
    seed(&state.db, &creators).await;
    let seeded = seeding.elapsed();

    let mut rows = vec![format!(
        "Seeded {TESTS} tests in {:.1} s.\n\n| Measure (PostgreSQL, {TESTS} tests) | Median | p95 | Target |\n|---|---|---|---|",
        seeded.as_secs_f64()
    )];
    for (label, path, token) in [
        (
            "GET /tests?state=in_review&technique=T1059&platform=windows (50 per page)",
            "/api/v1/tests?state=in_review&technique=T1059&platform=windows&limit=50",
            &red_tech,
        ),
        (
            "GET /tests (unfiltered, first page of 50, counts per state)",
            "/api/v1/tests?limit=50",
            &red_tech,
        ),
        (
            "GET /tests?search=test 4242 (title search, 11 matches)",
            "/api/v1/tests?search=test%204242&limit=50",
            &red_tech,
        ),
        (
            "GET /tests?search=test 12&offset=100 (broad title search, 1,111 matches)",
            "/api/v1/tests?search=test%2012&offset=100&limit=50",
            &red_tech,
        ),
        (
            "GET /tests?mine=true (red lead's pending tasks)",
            "/api/v1/tests?mine=true&limit=50",
            &red_lead,
        ),
    ] {
        let samples = timed_get(&api, token, path).await;
        let mut sorted = samples.clone();
        sorted.sort();
        let p95 = sorted[(sorted.len() * 95) / 100];
        rows.push(format!(
            "| {label} | {} | {} | < 30 ms |",
            ms(median(samples)),
            ms(p95)
        ));
    }

    // Transitions: submit-red on tests already executing; each writes the test, an audit
    // entry and a notification for each of the 10 blue technicians.
    let page: serde_json::Value = api
        .client
        .get(format!(
            "{}/api/v1/tests?state=red_executing&limit={REQUESTS}",
            api.base
        ))
        .bearer_auth(&red_tech)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    let mut samples = Vec::new();
    for id in &ids {
        let started = Instant::now();
        let response = api
            .client
            .post(format!("{}/api/v1/tests/{id}/submit-red", api.base))
            .bearer_auth(&red_tech)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let _ = response.bytes().await.unwrap();
        samples.push(started.elapsed());
    }
    let mut sorted = samples.clone();
    sorted.sort();
    let p95 = sorted[(sorted.len() * 95) / 100];
    rows.push(format!(
        "| POST /tests/{{id}}/submit-red ({} runs; test + audit entry + 10 notifications, one transaction) | {} | {} | < 20 ms |",
        samples.len(),
        ms(median(samples)),
        ms(p95)
    ));
    drop(state);
    let _ = sea_orm::ConnectionTrait::execute_unprepared(
        &admin_db,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    Some(rows)
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// The child: a server on a fresh SQLite database, printing its address.
async fn run_upload_server(dir: PathBuf) {
    let config = config(
        &format!("sqlite://{}/aegis.db?mode=rwc", dir.display()),
        &dir,
    );
    let (addr, _state) = serve(&config).await;
    println!("addr={addr}");
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

/// A 100 MB upload to a server in its own process; its peak memory is reset just before.
async fn upload_memory() -> Option<String> {
    let dir = std::env::temp_dir().join(format!("aegis-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().ok()?)
        .args(["--upload-server", &dir.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let addr = line.trim().strip_prefix("addr=")?.to_owned();
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("http://{addr}"),
    };
    let admin = api.token("admin", ADMIN_PASSWORD).await;
    api.import_fixture(&admin).await;
    let test: serde_json::Value = api
        .client
        .post(format!("{}/api/v1/tests", api.base))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"title": "Upload", "technique_id": "T1059"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = test["id"].as_str().unwrap().to_owned();
    let payload: Vec<u8> = (0..UPLOAD_BYTES).map(|i| (i % 251) as u8).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = status_kb(pid, "VmRSS:");
    // Resets VmHWM to the current RSS (Linux, "echo 5 > clear_refs").
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let started = Instant::now();
    let form = reqwest::multipart::Form::new().text("team", "red").part(
        "file",
        reqwest::multipart::Part::bytes(payload).file_name("big.bin"),
    );
    let response = api
        .client
        .post(format!("{}/api/v1/tests/{id}/evidence", api.base))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let took = started.elapsed();
    let peak = status_kb(pid, "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let extra_mb = peak.saturating_sub(before) as f64 / 1024.0;
    Some(format!(
        "| 100 MB evidence upload (local store, streamed + SHA-256; {:.1} s) | extra peak RSS {extra_mb:.1} MB (RSS before {:.1} MB{}) | | < 50 MB |",
        took.as_secs_f64(),
        before as f64 / 1024.0,
        if reset { "" } else { "; peak not reset" }
    ))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--upload-server") {
        run_upload_server(PathBuf::from(&args[i + 1])).await;
        return;
    }
    match list_and_transitions().await {
        Some(rows) => {
            for row in rows {
                println!("{row}");
            }
        }
        None => println!(
            "skipping the list and transition benchmarks: PostgreSQL is not reachable at {PG_ADMIN_URL}"
        ),
    }
    match upload_memory().await {
        Some(row) => println!("{row}"),
        None => println!("skipping the upload memory benchmark: could not start the server child"),
    }
}
