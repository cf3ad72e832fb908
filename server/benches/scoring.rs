//! Scoring's and compliance's performance targets, at real size (the seeded 100,000-test
//! PostgreSQL database with the real ATT&CK bundle when it is there):
//! - `GET /api/v1/scoring/summary`, median < 100 ms;
//! - a weight change: saving the configuration and recomputing every technique's score in its
//!   transaction, < 2 s (and the preview of an unsaved change);
//! - `GET /api/v1/compliance/frameworks/{id}` for NIST SP 800-53 (the CTID mapping in
//!   `../shared/data/compliance-mappings/`, skipped with a reason when absent), < 150 ms.
//!
//! Run with `cargo bench -p server --bench scoring`; prints Markdown rows for BENCHMARKS.md;
//! skips with a reason when PostgreSQL is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use app::domain::scoring::ScoringConfig;
use app::dto::scoring::ScoringConfigUpdate;
use app::server::importers::compliance::ComplianceMapping;
use app::server::importers::{Input, no_progress, run};
use app::server::platform::context::Actor;
use app::server::scoring::{config, reads};
use std::time::{Duration, Instant};
use support::{Api, REQUESTS, ServerProcess, ms, row, secs};

const RUNS: usize = 5;
const NIST: &str = "../../shared/data/compliance-mappings/mappings/nist_800_53/attack-16.1/nist_800_53-rev5/enterprise/nist_800_53-rev5_attack-16.1-enterprise.json";

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    support::bench_main("scoring", |database, dir| async move {
        let mut rows = vec![
            "| Measure | Median | p95 | Max | Target |".to_owned(),
            "|---|---|---|---|---|".to_owned(),
        ];
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let (bundle, seeded) = support::prepare(&url).await;
        println!("PostgreSQL: {bundle}; seeded {} tests", seeded.tests);
        let db = app::server::platform::db::connect(&url).await.unwrap();
        let actor = Actor::system("bench");

        // A weight change, saved: every score recomputed in the saving transaction.
        let mut samples = Vec::new();
        let mut techniques = 0;
        for i in 0..RUNS {
            let mut update = ScoringConfig::default();
            update.weights.quality = 20.0 + i as f64;
            let started = Instant::now();
            config::update(
                &db,
                &actor,
                ScoringConfigUpdate {
                    config: update,
                    note: Some(format!("bench {i}")),
                },
            )
            .await
            .unwrap();
            samples.push(started.elapsed());
            techniques = reads::summary(&db).await.unwrap().techniques;
        }
        rows.push(row(
            &format!("Save a weight change and recompute every score ({techniques} techniques, 100,000 tests)"),
            samples,
            Duration::from_secs(2),
            secs,
        ));
        let mut samples = Vec::new();
        for i in 0..RUNS {
            let change = ScoringConfig {
                half_life_days: 30 + i as u32,
                ..Default::default()
            };
            let started = Instant::now();
            reads::preview(&db, change).await.unwrap();
            samples.push(started.elapsed());
        }
        rows.push(row(
            "Preview an unsaved change (the Scoring page's live preview)",
            samples,
            Duration::from_secs(2),
            secs,
        ));

        // NIST SP 800-53, when the shared data is there.
        let nist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(NIST);
        let framework = match std::fs::read(&nist) {
            Ok(bytes) => {
                let started = Instant::now();
                let report = run::<ComplianceMapping>(&db, &actor, Input::Bytes(bytes), "bench", &no_progress)
                    .await
                    .unwrap();
                rows.push(row(
                    &format!(
                        "Import NIST SP 800-53 rev5 ({} controls, {} mappings)",
                        report.controls_added + report.controls_unchanged,
                        report.mappings_added + report.mappings_unchanged
                    ),
                    vec![started.elapsed()],
                    Duration::from_secs(10),
                    secs,
                ));
                Some(report.framework_id)
            }
            Err(e) => {
                println!("skipping the compliance view: {} not readable ({e})", nist.display());
                rows.push("| compliance view | skipped: the NIST mapping is not in ../shared/data | | | |".into());
                None
            }
        };
        // The same answers computed afresh (the read cache keeps them between changes, so the
        // HTTP rows below are what a reader sees; these are the first read after a change).
        let mut samples = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            reads::summary(&db).await.unwrap();
            samples.push(started.elapsed());
        }
        rows.push(row(
            "Scoring summary computed, uncached (first read after a change)",
            samples,
            Duration::from_millis(100),
            ms,
        ));
        if let Some(id) = framework {
            let mut samples = Vec::new();
            for _ in 0..RUNS {
                let started = Instant::now();
                app::server::compliance::framework(&db, &id.to_string())
                    .await
                    .unwrap();
                samples.push(started.elapsed());
            }
            rows.push(row(
                "NIST SP 800-53 framework view computed, uncached (first read after a change)",
                samples,
                Duration::from_millis(150),
                ms,
            ));
        }
        db.close().await.unwrap();

        let Some(server) = ServerProcess::start(&url, &dir) else {
            rows.push("| scoring reads | skipped: the server did not start | | | |".into());
            return rows;
        };
        let (api, cookie) = Api::login(&server.base).await;
        let mut reads: Vec<(String, String, bool, u64)> = vec![
            ("GET /api/v1/scoring/summary".into(), "/api/v1/scoring/summary".into(), false, 100),
            (
                "GET /api/v1/scoring/techniques?sort=gap (first page)".into(),
                "/api/v1/scoring/techniques?sort=gap".into(),
                false,
                100,
            ),
            ("GET /scoring (Scoring page, server-rendered)".into(), "/scoring".into(), true, 200),
            ("GET /matrix?mode=score (server-rendered)".into(), "/matrix?mode=score".into(), true, 300),
        ];
        if let Some(id) = framework {
            reads.push((
                "GET /api/v1/compliance/frameworks/{id} (NIST SP 800-53)".into(),
                format!("/api/v1/compliance/frameworks/{id}"),
                false,
                150,
            ));
            reads.push((
                "GET /compliance (Compliance page, NIST SP 800-53, server-rendered)".into(),
                format!("/compliance?framework={id}"),
                true,
                300,
            ));
        }
        for (label, path, use_cookie, target) in reads {
            let cookie = use_cookie.then_some(cookie.as_str());
            match api.timed(&path, cookie, 5, REQUESTS).await {
                Ok(samples) => rows.push(row(&label, samples, Duration::from_millis(target), ms)),
                Err(e) => rows.push(format!("| {label} | failed: {e} | | | |")),
            }
        }
        rows
    })
    .await;
}
