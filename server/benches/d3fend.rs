//! D3FEND's performance targets, at real size:
//! - importing the shipped D3FEND ontology (`d3fend-protege.ttl`, 1.2.0: read, derive, write)
//!   into a database without D3FEND in under 3 s, on SQLite and on PostgreSQL, and a re-import
//!   with no change;
//! - the technique page of T1059.001 server-rendered (its Sigma and Elastic rules, its D3FEND
//!   countermeasures, its tests) on the seeded 100,000-test PostgreSQL database, median < 50 ms,
//!   and its countermeasures through the API.
//!
//! Run with `cargo bench -p server --bench d3fend`; prints Markdown rows for BENCHMARKS.md;
//! skips with a reason when the shared data or PostgreSQL is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use app::domain::sources::CatalogImport;
use app::server::importers::d3fend::D3fend;
use app::server::importers::rules::{ElasticRules, SigmaRules};
use app::server::importers::{ArchiveLimits, Input, files, no_progress, run};
use app::server::platform::context::Actor;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{Api, REQUESTS, ServerProcess, ms, row, secs};

const RUNS: usize = 5;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

async fn import_d3fend(db: &DatabaseConnection, bytes: &[u8]) -> (Duration, usize) {
    let started = Instant::now();
    let report = run::<D3fend>(
        db,
        &Actor::system("bench"),
        Input::Bytes(bytes.to_vec()),
        "bench",
        &no_progress,
    )
    .await
    .unwrap();
    (
        started.elapsed(),
        report.countermeasures_added + report.countermeasures_unchanged,
    )
}

/// `RUNS` imports into a database without D3FEND (emptied before each), then `RUNS`
/// re-imports with nothing changed.
async fn import_rows(db: &DatabaseConnection, bytes: &[u8], backend: &str) -> Vec<String> {
    let mut full = Vec::new();
    let mut pairs = 0;
    for _ in 0..RUNS {
        db.execute_unprepared("DELETE FROM d3fend_countermeasures")
            .await
            .unwrap();
        db.execute_unprepared("DELETE FROM d3fend_techniques")
            .await
            .unwrap();
        let (took, n) = import_d3fend(db, bytes).await;
        full.push(took);
        pairs = n;
    }
    let mut again = Vec::new();
    for _ in 0..RUNS {
        again.push(import_d3fend(db, bytes).await.0);
    }
    vec![
        row(
            &format!("D3FEND import ({pairs} countermeasures), {backend}"),
            full,
            Duration::from_secs(3),
            secs,
        ),
        row(
            &format!("D3FEND re-import, no changes, {backend}"),
            again,
            Duration::from_secs(3),
            secs,
        ),
    ]
}

async fn import_rules(db: &DatabaseConnection) {
    for (source, folder) in [
        (CatalogImport::Sigma, "sigma"),
        (CatalogImport::ElasticRules, "elastic-detection-rules"),
    ] {
        let Ok(files) = files::read_dir(&shared().join(folder), source, &ArchiveLimits::default())
        else {
            println!("Note: {folder} is not there; the technique page has no rules of it.");
            continue;
        };
        let actor = Actor::system("bench");
        let input = Input::Files(files);
        match source {
            CatalogImport::Sigma => {
                run::<SigmaRules>(db, &actor, input, "bench", &no_progress)
                    .await
                    .unwrap();
            }
            _ => {
                run::<ElasticRules>(db, &actor, input, "bench", &no_progress)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn sqlite_rows(bytes: &[u8], dir: &Path) -> Vec<String> {
    let url = format!("sqlite://{}/d3fend.db?mode=rwc", dir.display());
    let db = app::server::platform::db::connect(&url).await.unwrap();
    app::server::platform::db::migrate(&db).await.unwrap();
    let rows = import_rows(&db, bytes, "SQLite").await;
    db.close().await.unwrap();
    rows
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Ok(ontology) = std::fs::read(shared().join("d3fend/d3fend-protege.ttl")) else {
        println!("skipped: ../shared/data/d3fend/d3fend-protege.ttl is not there");
        return;
    };
    support::bench_main("d3fend", |database, dir| async move {
        let mut rows = vec![
            "| Measure | Median | p95 | Max | Target |".to_owned(),
            "|---|---|---|---|---|".to_owned(),
        ];
        rows.extend(sqlite_rows(&ontology, &dir).await);
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let (bundle, seeded) = support::prepare(&url).await;
        println!("PostgreSQL: {bundle}; seeded {} tests", seeded.tests);
        let db = app::server::platform::db::connect(&url).await.unwrap();
        import_rules(&db).await;
        rows.extend(import_rows(&db, &ontology, "PostgreSQL, 100,000 tests").await);
        db.close().await.unwrap();
        let Some(server) = ServerProcess::start(&url, &dir) else {
            rows.push("| technique page | skipped: the server did not start | | | |".into());
            return rows;
        };
        let (api, cookie) = Api::login(&server.base).await;
        for (label, path, use_cookie, target) in [
            (
                "GET /techniques/T1059.001 (technique page with rules and countermeasures, server-rendered)",
                "/techniques/T1059.001",
                true,
                50,
            ),
            (
                "GET /api/v1/techniques/T1059.001/countermeasures",
                "/api/v1/techniques/T1059.001/countermeasures",
                false,
                50,
            ),
        ] {
            let cookie = use_cookie.then_some(cookie.as_str());
            match api.timed(path, cookie, 5, REQUESTS).await {
                Ok(samples) => rows.push(row(
                    label,
                    samples,
                    Duration::from_millis(target),
                    ms,
                )),
                Err(e) => rows.push(format!("| {label} | failed: {e} | | | |")),
            }
        }
        rows
    })
    .await;
}
