//! Read paths at real size (issue 24), on PostgreSQL with the real ATT&CK Enterprise bundle,
//! 100,000 tests and 1,000,000 audit entries from the `aegis seed-demo` generator, then
//! `VACUUM ANALYZE`; the server in its own process:
//! - alone (one request at a time, to the last byte): `GET /api/v1/techniques` p50 < 10 ms,
//!   `GET /api/v1/tests?limit=50` unfiltered and with each filter p50 < 10 ms,
//!   `GET /api/v1/tests/{id}` p50 < 5 ms, every metrics endpoint p50 < 20 ms, the dashboard
//!   and the matrix pages server-rendered p50 < 60 ms; each cached answer also right after
//!   a change (its versions bumped before every request), which is what a reader pays once
//!   per change;
//! - under load, with wrk (2 threads, 16 connections, 10 s) when it is installed:
//!   `/api/v1/techniques` >= 200 req/s, `/api/v1/tests?limit=50` >= 500 req/s, zero errors,
//!   and the server's resident memory before and after.
//!
//! Run with `cargo bench -p server --bench read_paths`. Prints Markdown for BENCHMARKS.md.
//! Needs PostgreSQL on 127.0.0.1:5432 (skips with a reason without it); wrk is optional
//! (`apt-get install wrk`; the load rows say so when it is missing). With
//! `AEGIS_BENCH_KEEP_DB` set, the seeded database is kept and its name printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sea_orm::ConnectionTrait;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Api, ServerProcess, percentile, prepare, status_kb};

const ALONE: usize = 200;
const PAGES: usize = 50;

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `| label | p50 | p95 | max | target |`, the p50 in bold when it misses.
fn alone_row(label: &str, samples: &[Duration], target: Duration) -> String {
    let p50 = percentile(samples.to_vec(), 0.5);
    let shown = if p50 > target {
        format!("**{}**", ms(p50))
    } else {
        ms(p50)
    };
    format!(
        "| {label} | {shown} | {} | {} | p50 < {} ms |",
        ms(percentile(samples.to_vec(), 0.95)),
        ms(*samples.iter().max().unwrap()),
        target.as_millis()
    )
}

/// Every cached answer made stale, as a change would (from outside the server).
async fn bump(db: &sea_orm::DatabaseConnection) {
    db.execute_unprepared("UPDATE cache_versions SET version = version + 1")
        .await
        .unwrap();
}

/// `n` requests to `path` one at a time, each after `before` (if any), timed to the last byte.
async fn alone(
    api: &Api,
    path: &str,
    cookie: Option<&str>,
    n: usize,
    db: Option<&sea_orm::DatabaseConnection>,
) -> Result<Vec<Duration>, String> {
    let url = format!("{}{path}", api.base);
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 5 {
        if let Some(db) = db {
            bump(db).await;
        }
        let request = api.client.get(&url);
        let request = match cookie {
            Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
            None => request.bearer_auth(&api.token),
        };
        let started = Instant::now();
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        let took = started.elapsed();
        if !status.is_success() || body.is_empty() {
            return Err(format!("HTTP {status}, {} bytes", body.len()));
        }
        if i >= 5 {
            samples.push(took);
        }
    }
    Ok(samples)
}

struct Load {
    rps: f64,
    p50: String,
    p99: String,
    errors: u64,
}

/// wrk's figures for `path`: requests/s, latency percentiles, non-2xx responses and socket
/// errors. `None` when wrk is not installed.
fn wrk(api: &Api, path: &str) -> Option<Result<Load, String>> {
    Command::new("wrk").arg("--version").output().ok()?;
    let output = Command::new("wrk")
        .args(["-t2", "-c16", "-d10s", "--latency", "-H"])
        .arg(format!("Authorization: Bearer {}", api.token))
        .arg(format!("{}{path}", api.base))
        .output();
    let output = match output {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => return Some(Err(e.to_string())),
    };
    let field = |prefix: &str| {
        output
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
    };
    let Some(rps) = field("Requests/sec:").and_then(|v| v.parse().ok()) else {
        return Some(Err(format!("unexpected wrk output: {output}")));
    };
    let non_2xx: u64 = output
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses:"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let socket: u64 = output
        .lines()
        .find(|l| l.contains("Socket errors:"))
        .map(|l| {
            l.split(',')
                .filter_map(|part| part.split_whitespace().last())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Some(Ok(Load {
        rps,
        p50: field("50%").unwrap_or_default(),
        p99: field("99%").unwrap_or_default(),
        errors: non_2xx + socket,
    }))
}

async fn one_value(db: &sea_orm::DatabaseConnection, sql: &str) -> Option<String> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            sql,
        ))
        .await
        .ok()??;
    row.try_get_by_index::<String>(0).ok()
}

async fn measure(pg_name: &str, dir: &Path) -> Vec<String> {
    let database_url = format!("postgres://postgres@127.0.0.1:5432/{pg_name}");
    let (bundle, report) = prepare(&database_url).await;
    let db = sea_orm::Database::connect(&database_url).await.unwrap();
    let test_id = one_value(
        &db,
        "SELECT id::text FROM tests ORDER BY updated_at DESC LIMIT 1 OFFSET 500",
    )
    .await
    .unwrap();
    let creator = one_value(
        &db,
        "SELECT created_by::text FROM tests GROUP BY created_by ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .await
    .unwrap();
    let technique = one_value(
        &db,
        "SELECT technique_id FROM tests GROUP BY technique_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .await
    .unwrap();
    let campaign = one_value(
        &db,
        "SELECT campaign_id::text FROM tests WHERE campaign_id IS NOT NULL LIMIT 1",
    )
    .await;
    let mut rows = vec![
        format!("ATT&CK: {bundle}."),
        format!(
            "Seeded: {} tests, {} audit entries, in {:.1} s; then `VACUUM ANALYZE`.",
            report.tests,
            report.audit_total(),
            report.elapsed.as_secs_f64()
        ),
        String::new(),
    ];
    let Some(server) = ServerProcess::start(&database_url, dir) else {
        rows.push("Could not start the server child.".to_owned());
        return rows;
    };
    let (api, cookie) = Api::login(&server.base).await;

    rows.push("| Request, one at a time | p50 | p95 | max | Target |".to_owned());
    rows.push("|---|---|---|---|---|".to_owned());
    let fast = Duration::from_millis(10);
    let metrics = Duration::from_millis(20);
    let mut paths: Vec<(String, String, Duration, bool)> = vec![
        (
            "GET /api/v1/techniques".into(),
            "/api/v1/techniques".into(),
            fast,
            true,
        ),
        (
            "GET /api/v1/tactics".into(),
            "/api/v1/tactics".into(),
            fast,
            true,
        ),
        (
            "GET /api/v1/threat-actors".into(),
            "/api/v1/threat-actors".into(),
            fast,
            true,
        ),
        (
            "GET /api/v1/tests?limit=50".into(),
            "/api/v1/tests?limit=50".into(),
            fast,
            false,
        ),
        (
            "… &state=in_review".into(),
            "/api/v1/tests?limit=50&state=in_review".into(),
            fast,
            false,
        ),
        (
            format!("… &technique={technique} (the most tested)"),
            format!("/api/v1/tests?limit=50&technique={technique}"),
            fast,
            false,
        ),
        (
            "… &platform=windows".into(),
            "/api/v1/tests?limit=50&platform=windows".into(),
            fast,
            false,
        ),
        (
            "… &creator=(the busiest creator)".into(),
            format!("/api/v1/tests?limit=50&creator={creator}"),
            fast,
            false,
        ),
        (
            "… &pending_validation_side=red".into(),
            "/api/v1/tests?limit=50&pending_validation_side=red".into(),
            fast,
            false,
        ),
        (
            "… &search=powershell".into(),
            "/api/v1/tests?limit=50&search=powershell".into(),
            fast,
            false,
        ),
        (
            "… &mine=true (a red lead's pending tasks)".into(),
            "/api/v1/tests?limit=50&mine=true".into(),
            fast,
            false,
        ),
        (
            "… &offset=5000".into(),
            "/api/v1/tests?limit=50&offset=5000".into(),
            fast,
            false,
        ),
        (
            "GET /api/v1/tests/{id}".into(),
            format!("/api/v1/tests/{test_id}"),
            Duration::from_millis(5),
            false,
        ),
    ];
    if let Some(campaign) = &campaign {
        paths.push((
            "… &campaign=(a campaign)".into(),
            format!("/api/v1/tests?limit=50&campaign={campaign}"),
            fast,
            false,
        ));
    }
    for endpoint in [
        "summary",
        "by-tactic",
        "test-pipeline",
        "team-activity",
        "validation-rate",
        "recent-tests",
        "coverage-history",
    ] {
        paths.push((
            format!("GET /api/v1/metrics/{endpoint}"),
            format!("/api/v1/metrics/{endpoint}"),
            metrics,
            true,
        ));
    }
    for (label, path, target, cached) in &paths {
        match alone(&api, path, None, ALONE, None).await {
            Ok(samples) => rows.push(alone_row(label, &samples, *target)),
            Err(e) => rows.push(format!("| {label} | failed: {e} | | | |")),
        }
        if *cached {
            match alone(&api, path, None, ALONE / 4, Some(&db)).await {
                Ok(samples) => rows.push(alone_row(
                    &format!("{label}, right after a change"),
                    &samples,
                    Duration::from_secs(1),
                )),
                Err(e) => rows.push(format!("| {label} after a change | failed: {e} | | | |")),
            }
        }
    }
    for (label, path) in [
        ("GET / (dashboard page, server-rendered)", "/"),
        ("GET /matrix (matrix page, server-rendered)", "/matrix"),
    ] {
        let page = Duration::from_millis(60);
        match alone(&api, path, Some(&cookie), PAGES, None).await {
            Ok(samples) => rows.push(alone_row(label, &samples, page)),
            Err(e) => rows.push(format!("| {label} | failed: {e} | | | |")),
        }
        match alone(&api, path, Some(&cookie), PAGES / 2, Some(&db)).await {
            Ok(samples) => rows.push(alone_row(
                &format!("{label}, right after a change"),
                &samples,
                Duration::from_secs(1),
            )),
            Err(e) => rows.push(format!("| {label} after a change | failed: {e} | | | |")),
        }
    }

    rows.push(String::new());
    rows.push(
        "| Under load (wrk -t2 -c16 -d10s) | req/s | p50 | p99 | errors | Target |".to_owned(),
    );
    rows.push("|---|---|---|---|---|---|".to_owned());
    let rss_before = status_kb(server.pid, "VmRSS:").unwrap_or(0);
    let mut loads = vec![
        (
            "GET /api/v1/techniques".to_owned(),
            "/api/v1/techniques".to_owned(),
            200.0,
        ),
        (
            "GET /api/v1/tests?limit=50".to_owned(),
            "/api/v1/tests?limit=50".to_owned(),
            500.0,
        ),
        (
            format!("GET /api/v1/tests?limit=50&technique={technique}"),
            format!("/api/v1/tests?limit=50&technique={technique}"),
            500.0,
        ),
        (
            "GET /api/v1/tests?limit=50&state=in_review".to_owned(),
            "/api/v1/tests?limit=50&state=in_review".to_owned(),
            500.0,
        ),
        (
            "GET /api/v1/tests/{id}".to_owned(),
            format!("/api/v1/tests/{test_id}"),
            500.0,
        ),
        (
            "GET /api/v1/metrics/summary".to_owned(),
            "/api/v1/metrics/summary".to_owned(),
            200.0,
        ),
    ];
    loads.dedup();
    for (label, path, target) in loads {
        match wrk(&api, &path) {
            None => {
                rows.push(format!(
                    "| {label} | wrk is not installed | | | | ≥ {target} req/s |"
                ));
            }
            Some(Err(e)) => rows.push(format!("| {label} | failed: {e} | | | | |")),
            Some(Ok(load)) => {
                let rps = if load.rps < target {
                    format!("**{:.0}**", load.rps)
                } else {
                    format!("{:.0}", load.rps)
                };
                rows.push(format!(
                    "| {label} | {rps} | {} | {} | {} | ≥ {target} req/s, 0 errors |",
                    load.p50, load.p99, load.errors
                ));
            }
        }
    }
    let rss_after = status_kb(server.pid, "VmRSS:").unwrap_or(0);
    rows.push(String::new());
    rows.push(format!(
        "Server resident memory: {:.1} MB before the load runs, {:.1} MB after.",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0
    ));
    drop(server);
    let _ = db.close().await;
    rows
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    support::bench_main("reads", |database, dir| async move {
        measure(&database, &dir).await
    })
    .await;
}
