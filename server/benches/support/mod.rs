//! What the PostgreSQL benchmarks on the seeded 100,000-test database share: the
//! configuration, the server in a child process (so its memory is its own), signing in as a
//! seeded lead, timing requests, and the seeding itself.
#![allow(dead_code)]

use app::server::importers::attack::import::import_bundle;
use app::server::importers::{Trigger, no_progress};
use app::server::platform::context::Actor;
use server::config::Config;
use server::seed::{SeedOptions, SeedReport};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The argument that makes a benchmark binary the server child.
pub const SERVER_FLAG: &str = "--bench-server";
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const TESTS: usize = 100_000;
pub const AUDIT: usize = 1_000_000;
pub const REQUESTS: usize = 200;
/// For the heavier responses: the coverage report and the dashboard page.
pub const BIG_REQUESTS: usize = 50;
pub const EXPORT_RUNS: usize = 5;
pub const ADMIN_PASSWORD: &str = "bench-admin-password";
/// The measurements sign in as a seeded red lead (the seeded users exist, so no admin is
/// bootstrapped): a dashboard with pending tasks, as leads see it.
pub const BENCH_USER: &str = "seed-red-lead-1";
pub const SEED_PASSWORD: &str = "bench-seed-password";

/// The Enterprise bundle, or the small fixture (with a note) when the shared data is missing.
pub fn bundle() -> (Vec<u8>, String) {
    let path = std::env::var_os("AEGIS_BENCH_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/data/attack/enterprise-attack.json")
        });
    if let Ok(bytes) = std::fs::read(&path) {
        let label = format!(
            "{} ({:.1} MB)",
            path.file_name().unwrap_or_default().to_string_lossy(),
            bytes.len() as f64 / 1e6
        );
        return (bytes, label);
    }
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attack-mini.json");
    println!(
        "Note: {} is not present (set AEGIS_BENCH_BUNDLE); using the 5-technique test fixture, \
         so per-technique and per-tactic figures are not representative.\n",
        path.display()
    );
    (
        std::fs::read(fixture).unwrap(),
        "attack-mini.json (test fixture)".to_owned(),
    )
}

pub fn config(database_url: &str, dir: &Path) -> Config {
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
    // No scheduled job may run in the middle of a measurement.
    vars.insert("AEGIS_SCHEDULE_MITRE_SYNC", "off".to_owned());
    vars.insert("AEGIS_SCHEDULE_NOTIFICATION_CLEANUP", "off".to_owned());
    vars.insert("AEGIS_SCHEDULE_WEEKLY_SNAPSHOT", "off".to_owned());
    Config::from_lookup(|name| vars.get(name).cloned()).unwrap()
}

/// The child: Aegis serving the seeded database, printing its address.
pub async fn run_server(database_url: String, dir: PathBuf) {
    let config = config(&database_url, &dir);
    let (state, _) = server::bootstrap(&config).await.unwrap();
    let router = server::router(state, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("addr={}", listener.local_addr().unwrap());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}

/// The server in its own process, so its memory is its own; killed when dropped, even when a
/// measurement panics.
pub struct ServerProcess {
    child: std::process::Child,
    pub pid: u32,
    pub base: String,
}

impl ServerProcess {
    pub fn start(database_url: &str, dir: &Path) -> Option<Self> {
        let mut child = std::process::Command::new(std::env::current_exe().ok()?)
            .args([SERVER_FLAG, database_url, &dir.display().to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        let pid = child.id();
        let mut lines = BufReader::new(child.stdout.take()?).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("addr=").map(str::to_owned));
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        };
        Some(Self {
            child,
            pid,
            base: format!("http://{addr}"),
        })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of `/proc/<pid>/status`, in kB.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// One table row: median (bold when it misses `target`), p95, max.
pub fn row(
    label: &str,
    samples: Vec<Duration>,
    target: Duration,
    show: fn(Duration) -> String,
) -> String {
    let mid = median(samples.clone());
    let shown = if mid > target {
        format!("**{}**", show(mid))
    } else {
        show(mid)
    };
    format!(
        "| {label} | {shown} | {} | {} | median < {} |",
        show(percentile(samples.clone(), 0.95)),
        show(*samples.iter().max().unwrap()),
        show(target).replace(".0 ms", " ms").replace(".00 s", " s"),
    )
}

pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// Signs in over REST; the response carries the bearer token and the session cookie a
    /// browser would keep.
    pub async fn login(base: &str) -> (Self, String) {
        let client = reqwest::Client::builder()
            // A page that redirects to the sign-in form must count as a failure, not be
            // followed and timed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "username": BENCH_USER, "password": SEED_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "login: {}",
            response.status()
        );
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("aegis_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let login: serde_json::Value = response.json().await.unwrap();
        let token = login["access_token"].as_str().unwrap().to_owned();
        let cookie = cookie.unwrap_or_else(|| format!("aegis_session={token}"));
        (
            Self {
                client,
                base: base.to_owned(),
                token,
            },
            cookie,
        )
    }

    /// `warmup` untimed requests, then `n` timed to the last byte of the body.
    pub async fn timed(
        &self,
        path: &str,
        cookie: Option<&str>,
        warmup: usize,
        n: usize,
    ) -> Result<Vec<Duration>, String> {
        let url = format!("{}{path}", self.base);
        let mut samples = Vec::with_capacity(n);
        for i in 0..warmup + n {
            let request = self.client.get(&url);
            let request = match cookie {
                Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
                None => request.bearer_auth(&self.token),
            };
            let started = Instant::now();
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            let took = started.elapsed();
            if !status.is_success() {
                return Err(format!("HTTP {status}"));
            }
            if body.is_empty() {
                return Err("empty body".into());
            }
            if i >= warmup {
                samples.push(took);
            }
        }
        Ok(samples)
    }
}

/// Creates the database, imports ATT&CK and runs the generator in this process.
pub async fn prepare(database_url: &str) -> (String, SeedReport) {
    let db = app::server::platform::db::connect(database_url)
        .await
        .unwrap();
    app::server::platform::db::migrate(&db).await.unwrap();
    let (bytes, label) = bundle();
    let started = Instant::now();
    import_bundle(
        &db,
        &Actor::system("bench"),
        bytes,
        Trigger::Cli,
        "bench",
        &no_progress,
    )
    .await
    .unwrap();
    let imported = started.elapsed();
    let options = SeedOptions {
        tests: TESTS,
        audit: AUDIT,
        days: 365,
        seed: 42,
        password: SEED_PASSWORD.to_owned(),
        progress: true,
    };
    let report = server::seed::seed(&db, &options).await.unwrap();
    db.close().await.unwrap();
    (format!("{label}, imported in {}", secs(imported)), report)
}

/// A benchmark binary's whole `main`: as the server child (see [`ServerProcess`]) it serves;
/// otherwise it creates a fresh PostgreSQL database `aegis_bench_<name>_<pid>` and a temporary
/// directory, prints the rows `measure` returns, and drops both (unless `AEGIS_BENCH_KEEP_DB`
/// is set). Without PostgreSQL it says why it skips.
pub async fn bench_main<F, Fut>(name: &str, measure: F)
where
    F: FnOnce(String, PathBuf) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    use sea_orm::ConnectionTrait;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == SERVER_FLAG) {
        run_server(args[i + 1].clone(), PathBuf::from(&args[i + 2])).await;
        return;
    }
    let Ok(admin) = sea_orm::Database::connect(PG_ADMIN_URL).await else {
        println!("skipping the {name} benchmarks: PostgreSQL is not reachable at {PG_ADMIN_URL}");
        return;
    };
    let database = format!("aegis_bench_{name}_{}", std::process::id());
    let drop_sql = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
    let create = async {
        // A run killed half-way with this pid leaves its database behind.
        admin.execute_unprepared(&drop_sql).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {database}"))
            .await?;
        Ok::<(), sea_orm::DbErr>(())
    };
    if let Err(e) = create.await {
        println!("skipping the {name} benchmarks: cannot create database {database}: {e}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("aegis-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for row in measure(database.clone(), dir.clone()).await {
        println!("{row}");
    }
    if std::env::var_os("AEGIS_BENCH_KEEP_DB").is_some() {
        println!(
            "\nAEGIS_BENCH_KEEP_DB: the seeded database {database} is kept; drop it when done."
        );
        return;
    }
    let _ = admin.execute_unprepared(&drop_sql).await;
    let _ = admin.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
