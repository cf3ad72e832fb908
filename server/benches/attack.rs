//! The ATT&CK knowledge base's performance targets, on the real Enterprise bundle:
//! - a full import into an empty database (≤ 3 s) and a re-import with no changes (≤ 2 s),
//!   on SQLite and on PostgreSQL;
//! - the peak memory of a process that does one full import (≤ 300 MB);
//! - `GET /api/v1/techniques` for the whole matrix, through HTTP (median < 20 ms);
//! - importing all Atomic Red Team atomics from a local directory (< 5 s), each of CALDERA,
//!   LOLBAS and GTFOBins (< 1 s), and a catalog search over all templates of every source
//!   through HTTP (median < 30 ms).
//!
//! Run with `cargo bench -p server --bench attack` (release profile). Prints a Markdown report
//! for BENCHMARKS.md. Needs PostgreSQL on 127.0.0.1:5432 for the PostgreSQL rows; skips with a
//! reason when the shared data or PostgreSQL is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::domain::sources::CatalogImport;
use app::server::importers::attack::import::import_bundle;
use app::server::importers::{Trigger, no_progress};
use app::server::platform::context::Actor;
use server::config::Config;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const RUNS: usize = 5;
const REQUESTS: usize = 200;

fn bundle_path() -> PathBuf {
    std::env::var_os("AEGIS_BENCH_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/data/attack/enterprise-attack.json")
        })
}

/// A throwaway database: a SQLite file in a temp dir, or a PostgreSQL database dropped after.
struct Scratch {
    url: String,
    dir: PathBuf,
    pg_name: Option<String>,
}

impl Scratch {
    async fn new(backend: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("aegis-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        if backend == "sqlite" {
            return Some(Scratch {
                url: format!("sqlite://{}/aegis.db?mode=rwc", dir.display()),
                dir,
                pg_name: None,
            });
        }
        let admin = sea_orm::Database::connect(PG_ADMIN_URL).await.ok()?;
        let name = format!("aegis_bench_{}", uuid::Uuid::new_v4().simple());
        sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
            .await
            .ok()?;
        admin.close().await.ok()?;
        Some(Scratch {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            dir,
            pg_name: Some(name),
        })
    }

    async fn drop_all(self) {
        if let Some(name) = &self.pg_name
            && let Ok(admin) = sea_orm::Database::connect(PG_ADMIN_URL).await
        {
            let _ = sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
            let _ = admin.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Peak resident memory of this process so far (Linux), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Full imports into empty databases, then re-imports of the same bundle.
async fn import_times(backend: &str, bytes: &[u8]) -> Option<(Vec<Duration>, Vec<Duration>)> {
    let mut full = Vec::new();
    let mut again = Vec::new();
    for _ in 0..RUNS {
        let scratch = Scratch::new(backend).await?;
        let db = app::server::platform::db::connect(&scratch.url)
            .await
            .unwrap();
        app::server::platform::db::migrate(&db).await.unwrap();
        let actor = Actor::system("bench");
        let started = Instant::now();
        let report = import_bundle(
            &db,
            &actor,
            bytes.to_vec(),
            Trigger::Cli,
            "bench",
            &no_progress,
        )
        .await
        .unwrap();
        full.push(started.elapsed());
        assert!(report.techniques_added > 600, "the full Enterprise bundle");
        let started = Instant::now();
        let report = import_bundle(
            &db,
            &actor,
            bytes.to_vec(),
            Trigger::Cli,
            "bench",
            &no_progress,
        )
        .await
        .unwrap();
        again.push(started.elapsed());
        assert_eq!(report.techniques_updated, 0);
        db.close().await.unwrap();
        scratch.drop_all().await;
    }
    Some((full, again))
}

fn atomics_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/atomic-red-team")
}

/// Where the shared data keeps each catalog source.
fn source_root(source: CatalogImport) -> PathBuf {
    let folder = match source {
        CatalogImport::AtomicRedTeam => "atomic-red-team",
        CatalogImport::Caldera => "caldera-abilities",
        CatalogImport::Lolbas => "lolbas",
        CatalogImport::Gtfobins => "gtfobins",
        CatalogImport::Sigma => "sigma",
        CatalogImport::ElasticRules => "elastic-detection-rules",
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(folder)
}

/// Reads a source from its local directory and imports it: the templates added.
async fn import_source(db: &sea_orm::DatabaseConnection, source: CatalogImport) -> Option<usize> {
    use app::server::importers::atomics::import::AtomicRedTeam;
    use app::server::importers::caldera::Caldera;
    use app::server::importers::gtfobins::Gtfobins;
    use app::server::importers::lolbas::Lolbas;
    use app::server::importers::{ArchiveLimits, Input, files, run};
    let files = files::read_dir(&source_root(source), source, &ArchiveLimits::default()).ok()?;
    let input = Input::Files(files);
    let actor = Actor::system("bench");
    let report = match source {
        CatalogImport::AtomicRedTeam => {
            run::<AtomicRedTeam>(db, &actor, input, "bench", &no_progress).await
        }
        CatalogImport::Caldera => run::<Caldera>(db, &actor, input, "bench", &no_progress).await,
        CatalogImport::Lolbas => run::<Lolbas>(db, &actor, input, "bench", &no_progress).await,
        CatalogImport::Gtfobins => run::<Gtfobins>(db, &actor, input, "bench", &no_progress).await,
        CatalogImport::Sigma => {
            use app::server::importers::rules::SigmaRules;
            return Some(
                run::<SigmaRules>(db, &actor, input, "bench", &no_progress)
                    .await
                    .unwrap()
                    .added,
            );
        }
        CatalogImport::ElasticRules => {
            use app::server::importers::rules::ElasticRules;
            return Some(
                run::<ElasticRules>(db, &actor, input, "bench", &no_progress)
                    .await
                    .unwrap()
                    .added,
            );
        }
    }
    .unwrap();
    Some(report.added)
}

/// One source from a local directory (read + parse + import) into an empty database, and
/// how many templates it added.
async fn source_times(backend: &str, source: CatalogImport) -> Option<(Vec<Duration>, usize)> {
    let mut samples = Vec::new();
    let mut added = 0;
    for _ in 0..RUNS {
        let scratch = Scratch::new(backend).await?;
        let db = app::server::platform::db::connect(&scratch.url)
            .await
            .unwrap();
        app::server::platform::db::migrate(&db).await.unwrap();
        let started = Instant::now();
        added = import_source(&db, source).await?;
        samples.push(started.elapsed());
        db.close().await.unwrap();
        scratch.drop_all().await;
    }
    Some((samples, added))
}

/// One import in a fresh process, so its peak memory is the import's own.
fn memory_probe(bundle: &std::path::Path) -> Option<f64> {
    let output = std::process::Command::new(std::env::current_exe().ok()?)
        .arg("--memory-probe")
        .arg(bundle)
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "memory probe failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("peak_mb=")?.trim().parse().ok())
}

async fn run_memory_probe(bundle: PathBuf) {
    let scratch = Scratch::new("sqlite").await.unwrap();
    let db = app::server::platform::db::connect(&scratch.url)
        .await
        .unwrap();
    app::server::platform::db::migrate(&db).await.unwrap();
    let bytes = std::fs::read(&bundle).unwrap();
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
    println!("peak_mb={:.1}", peak_rss_mb().unwrap_or(0.0));
    db.close().await.unwrap();
    scratch.drop_all().await;
}

/// `GET /api/v1/techniques` and the catalog search through a real server on `backend`, with
/// the bundle (and the atomics, when present) imported: both samples, and how many
/// techniques and templates there were.
async fn list_times(
    backend: &str,
    bytes: &[u8],
) -> Option<(Vec<Duration>, usize, Vec<Duration>, u64)> {
    let scratch = Scratch::new(backend).await?;
    let mut vars = HashMap::new();
    vars.insert("DATABASE_URL", scratch.url.clone());
    vars.insert("AEGIS_DATA_DIR", scratch.dir.display().to_string());
    vars.insert(
        "AEGIS_SECRET_KEY",
        "bench-secret-key-that-is-long-enough-0123456789".to_owned(),
    );
    vars.insert("AEGIS_ADMIN_PASSWORD", "bench-admin-password".to_owned());
    vars.insert("AEGIS_BIND", "127.0.0.1:0".to_owned());
    vars.insert(
        "AEGIS_SITE_ROOT",
        scratch.dir.join("site").display().to_string(),
    );
    vars.insert("AEGIS_SCHEDULE_MITRE_SYNC", "off".to_owned());
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let (state, _) = server::bootstrap(&config).await.unwrap();
    import_bundle(
        &state.db,
        &Actor::system("bench"),
        bytes.to_vec(),
        Trigger::Cli,
        "bench",
        &no_progress,
    )
    .await
    .unwrap();
    for source in CatalogImport::TEMPLATES {
        let _ = import_source(&state.db, source).await;
    }
    let templates = sea_orm::PaginatorTrait::count(
        <app::server::entities::test_template::Entity as sea_orm::EntityTrait>::find(),
        &state.db,
    )
    .await
    .unwrap();
    let router = server::router(state, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": "bench-admin-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let url = format!("http://{addr}/api/v1/techniques");
    let mut count = 0;
    // Warm-up: connections, caches.
    for _ in 0..10 {
        let body = client.get(&url).bearer_auth(&token).send().await.unwrap();
        count = body.json::<Vec<serde_json::Value>>().await.unwrap().len();
    }
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
        let body = response.bytes().await.unwrap();
        samples.push(started.elapsed());
        assert!(body.len() > 10_000);
    }
    let search = format!("http://{addr}/api/v1/test-templates?search=powershell&platform=windows");
    let mut searches = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = client
            .get(&search)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let _ = response.bytes().await.unwrap();
        searches.push(started.elapsed());
    }
    server.abort();
    scratch.drop_all().await;
    Some((samples, count, searches, templates))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-probe") {
        run_memory_probe(PathBuf::from(&args[i + 1])).await;
        return;
    }
    let bundle = bundle_path();
    let Ok(bytes) = std::fs::read(&bundle) else {
        println!(
            "skipping the ATT&CK benchmarks: {} is not present (set AEGIS_BENCH_BUNDLE)",
            bundle.display()
        );
        return;
    };
    println!(
        "Bundle: {} ({:.1} MB); {} runs per import figure, {} requests per list figure.\n",
        bundle.display(),
        bytes.len() as f64 / 1e6,
        RUNS,
        REQUESTS
    );
    println!("| Measure | Backend | Median | Min | Max | Target |");
    println!("|---|---|---|---|---|---|");
    for backend in ["sqlite", "postgres"] {
        let Some((full, again)) = import_times(backend, &bytes).await else {
            println!("| import | {backend} | skipped: database unavailable | | | |");
            continue;
        };
        for (label, samples, target) in [
            ("Full import, empty database", full, "≤ 3 s"),
            ("Re-import, no changes", again, "≤ 2 s"),
        ] {
            let min = *samples.iter().min().unwrap();
            let max = *samples.iter().max().unwrap();
            println!(
                "| {label} | {backend} | {} | {} | {} | {target} |",
                secs(median(samples)),
                secs(min),
                secs(max)
            );
        }
    }
    for backend in ["sqlite", "postgres"] {
        let Some((samples, count, searches, templates)) = list_times(backend, &bytes).await else {
            println!("| GET /api/v1/techniques | {backend} | skipped | | | |");
            continue;
        };
        let min = *samples.iter().min().unwrap();
        let p95 = percentile(samples.clone(), 0.95);
        println!(
            "| GET /api/v1/techniques ({count} techniques; p95 {}) | {backend} | {} | {} | {} | median < 20 ms |",
            ms(p95),
            ms(median(samples.clone())),
            ms(min),
            ms(*samples.iter().max().unwrap()),
        );
        if atomics_root().join("atomics").is_dir() {
            println!(
                "| GET /api/v1/test-templates?search=powershell&platform=windows ({templates} templates: ATT&CK procedures, atomics, CALDERA, LOLBAS, GTFOBins) | {backend} | {} | {} | {} | median < 30 ms |",
                ms(median(searches.clone())),
                ms(*searches.iter().min().unwrap()),
                ms(*searches.iter().max().unwrap()),
            );
        }
    }
    for source in CatalogImport::ALL {
        let target = if source == CatalogImport::AtomicRedTeam {
            "< 5 s"
        } else {
            "< 1 s"
        };
        for backend in ["sqlite", "postgres"] {
            match source_times(backend, source).await {
                Some((samples, added)) => println!(
                    "| {} import, {added} {} from a local directory | {backend} | {} | {} | {} | {target} |",
                    source.label(),
                    if source.template_source().is_some() {
                        "templates"
                    } else {
                        "rules"
                    },
                    secs(median(samples.clone())),
                    secs(*samples.iter().min().unwrap()),
                    secs(*samples.iter().max().unwrap()),
                ),
                None => println!(
                    "| {} import | {backend} | skipped: data or database unavailable | | | |",
                    source.label()
                ),
            }
        }
    }
    match memory_probe(&bundle) {
        Some(peak) => println!(
            "| Peak memory (VmHWM) of a process doing one full import | sqlite | {peak:.0} MB | | | ≤ 300 MB |"
        ),
        None => println!("| Peak memory | sqlite | probe failed | | | |"),
    }
}
