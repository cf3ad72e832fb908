//! Faults survived: PostgreSQL restarted under load (a throwaway cluster this test creates with
//! `initdb` and stops and starts with `pg_ctl`), and the S3 store down (moto killed). While a
//! dependency is down, requests fail fast with a 503 that says so and `/health` tells; when it
//! is back, the same server answers again by itself, and nothing committed is lost.
use crate::common::moto::Moto;
use crate::common::{Backend, TestApp, json_body, wait_for_run};
use crate::evidence::form;
use crate::workflow::{Crew, act, create_test};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of this test's own, on a free port; removed when dropped.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// `None` (with the reason printed) where PostgreSQL's server programs are not installed;
    /// CI has them (the database the other tests use is one).
    fn create() -> Option<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .find(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists());
        let Some(bin) = bin else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run the PostgreSQL restart test: initdb and pg_ctl not found"
            );
            eprintln!("skipping the PostgreSQL restart test: no /usr/lib/postgresql/*/bin/initdb");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("aegis-pg-{}", uuid::Uuid::new_v4().simple()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster { bin, dir, port };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.dir.display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        Some(cluster)
    }

    /// Runs one of PostgreSQL's programs; as the `postgres` user when this is root (the server
    /// refuses to run as root).
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(&self) {
        let dir = self.dir.display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {dir} -c fsync=off",
            self.port
        );
        let log = self.dir.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &dir, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    /// Stops the server the way a restart does: connections are terminated, what was
    /// committed stays.
    fn stop(&self) {
        let dir = self.dir.display().to_string();
        self.run("pg_ctl", &["-D", &dir, "-m", "fast", "-w", "stop"]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let dir = self.dir.display().to_string();
        let path = self.bin.join("pg_ctl");
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = command
            .args(["-D", &dir, "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// What the load saw: each answer's status and time, and the tests it was told were created.
#[derive(Default)]
struct Seen {
    answers: Vec<(u16, Duration)>,
    created: Vec<String>,
}

// Several threads: `pg_ctl` blocks the thread that runs it, and the server (in this process)
// must go on answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    cluster.start();
    let admin = sea_orm::Database::connect(cluster.url("postgres"))
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&admin, "CREATE DATABASE aegis")
        .await
        .unwrap();
    admin.close().await.unwrap();
    // The server's own database is this cluster's (the SQLite file the harness names is never
    // opened); a request waits at most one second for a connection.
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[
            ("DATABASE_URL", cluster.url("aegis")),
            ("AEGIS_DB_ACQUIRE_TIMEOUT_MS", "1000".into()),
        ],
    )
    .await;
    let crew = Crew::hire(&app).await;
    let app = Arc::new(app);

    // The load: reads and writes, one after another, from two clients, until told to stop.
    let running = Arc::new(AtomicBool::new(true));
    let mut workers = Vec::new();
    for worker in 0..2 {
        let (app, running, token) = (app.clone(), running.clone(), crew.red_lead.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                let title = format!("load {worker}-{n}");
                let started = Instant::now();
                let answer = if n % 3 == 0 {
                    app.request(Method::POST, "/api/v1/tests", Some(&token))
                        .json(&json!({"title": title, "technique_id": "T1059"}))
                        .send()
                        .await
                } else {
                    app.request(Method::GET, "/api/v1/tests?limit=5", Some(&token))
                        .send()
                        .await
                };
                let Ok(answer) = answer else { continue };
                let status = answer.status().as_u16();
                seen.answers.push((status, started.elapsed()));
                if status == 201 {
                    seen.created.push(title);
                }
                if status == 503 {
                    let body: Value = answer.json().await.unwrap();
                    assert!(
                        body["detail"].as_str().unwrap().contains("database"),
                        "{body}"
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    cluster.stop();
    // Down: every request fails fast, with a 503 that says why; /health says so too.
    for _ in 0..5 {
        let started = Instant::now();
        let response = app.get("/api/v1/tests?limit=5", &crew.viewer).await;
        assert_eq!(response.status(), 503);
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
        assert!(response.headers().contains_key("retry-after"));
        let health = app
            .request(Method::GET, "/health", None)
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 503);
        assert_eq!(json_body(health).await["status"], "unavailable");
    }

    cluster.start();
    // Back: the same server answers again by itself, within seconds.
    let back = Instant::now();
    loop {
        let response = app.get("/api/v1/tests?limit=5", &crew.viewer).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "not recovered after {:?}",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = back.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::SeqCst);
    let mut seen = Seen::default();
    for worker in workers {
        let mut one = worker.await.unwrap();
        seen.answers.append(&mut one.answers);
        seen.created.append(&mut one.created);
    }
    eprintln!("recovered {recovered:?} after the database came back");
    let statuses: std::collections::BTreeSet<u16> = seen.answers.iter().map(|a| a.0).collect();
    assert!(
        statuses.iter().all(|s| [200, 201, 503].contains(s)),
        "only answers and 503s, never a 500: {statuses:?}"
    );
    assert!(statuses.contains(&503), "the load saw the outage");
    assert!(
        seen.answers
            .iter()
            .all(|(_, took)| *took < Duration::from_secs(5)),
        "every request answered within seconds"
    );
    // Nothing the server said it created is lost.
    assert!(!seen.created.is_empty());
    let listed = json_body(app.get("/api/v1/tests?limit=200", &crew.viewer).await).await;
    let titles: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    for title in &seen.created {
        assert!(titles.contains(&title.as_str()), "{title} was lost");
    }
    assert_eq!(
        app.request(Method::GET, "/health", None)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The job runner came back too: a job run now is taken and finished.
    let response = app
        .post("/api/v1/system/jobs/notification_cleanup/run", &crew.admin)
        .await;
    assert_eq!(response.status(), 202);
    let enqueued = json_body(response).await;
    let run = wait_for_run(&app, &crew.admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    drop(app);
}

#[tokio::test]
async fn the_evidence_store_down_and_back() {
    let Some(mut moto) = Moto::start_with_bucket("the S3 outage test", "outage").await else {
        return;
    };
    let app = TestApp::start_with(Backend::Postgres, &moto.storage_vars("outage")).await;
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Outage", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    act(&app, &crew.red_tech, id, "start-execution", 200).await;
    let upload = |bytes: Vec<u8>| {
        app.request(
            Method::POST,
            &format!("/api/v1/tests/{id}/evidence"),
            Some(&crew.red_tech),
        )
        .multipart(form(Some("red"), "run.png", bytes))
        .send()
    };

    moto.stop();
    let started = Instant::now();
    let response = upload(vec![7; 10_000]).await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let body = json_body(response).await;
    assert!(
        body["detail"].as_str().unwrap().contains("evidence store"),
        "{body}"
    );
    // No metadata row without its object.
    let evidence = red_evidence(&app, id, &crew.viewer).await;
    assert_eq!(evidence.as_array().map(Vec::len), Some(0), "{evidence}");

    moto.start("outage").await;
    let response = upload(vec![7; 10_000]).await.unwrap();
    assert_eq!(response.status(), 201, "recovered without a restart");
    let evidence = red_evidence(&app, id, &crew.viewer).await;
    assert_eq!(evidence.as_array().map(Vec::len), Some(1), "{evidence}");
    app.finish().await;
}

async fn red_evidence(app: &TestApp, test: &str, token: &str) -> Value {
    json_body(app.get(&format!("/api/v1/tests/{test}"), token).await).await["red_evidence"].clone()
}
