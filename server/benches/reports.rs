//! The dashboard and reports performance targets, on PostgreSQL with the real ATT&CK
//! Enterprise bundle, 100,000 tests and 1,000,000 audit entries from the `aegis seed-demo`
//! generator:
//! - every dashboard metrics endpoint: median < 100 ms;
//! - the coverage summary report: median < 300 ms;
//! - the CSV export of all test results: < 3 s to the last byte, with flat server memory
//!   (< 50 MB above its resident size before the export);
//! - the dashboard page, rendered on the server: median < 200 ms.
//!
//! Run with `cargo bench -p server --bench reports` (release profile). Prints a Markdown table
//! for BENCHMARKS.md. Needs PostgreSQL on 127.0.0.1:5432; skips with a reason without it.
//! With `AEGIS_BENCH_KEEP_DB` set, the seeded database is kept (for `EXPLAIN`), not dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{
    AUDIT, Api, BIG_REQUESTS, EXPORT_RUNS, REQUESTS, ServerProcess, TESTS, mb, ms, prepare, row,
    secs, status_kb,
};

/// Counts RFC 4180 records as the bytes arrive: a line break inside quotes belongs to the
/// field, a doubled quote is a quote, blank lines are no records.
#[derive(Default)]
struct CsvRecords {
    complete: usize,
    in_quotes: bool,
    /// The current record has begun.
    open: bool,
}

impl CsvRecords {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_quotes {
                // `""` leaves the quotes and enters them again at once.
                self.in_quotes = b != b'"';
                continue;
            }
            match b {
                b'"' => {
                    self.in_quotes = true;
                    self.open = true;
                }
                b'\n' => {
                    self.complete += usize::from(self.open);
                    self.open = false;
                }
                b'\r' => {}
                _ => self.open = true,
            }
        }
    }

    fn total(&self) -> usize {
        self.complete + usize::from(self.open)
    }
}

struct Export {
    took: Duration,
    records: usize,
    bytes: usize,
    rss_before_kb: u64,
    /// The highest VmRSS sampled every 10 ms during the export.
    rss_peak_kb: u64,
    /// VmHWM after the export, when it could be reset just before.
    hwm_kb: Option<u64>,
}

/// One full CSV export, streamed and counted, while another thread samples the server's RSS.
async fn export(api: &Api, pid: u32) -> Result<Export, String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before_kb = status_kb(pid, "VmRSS:").ok_or("cannot read the server's VmRSS")?;
    // Resets VmHWM to the current RSS (Linux, "echo 5 > clear_refs").
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_before_kb));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = status_kb(pid, "VmRSS:") {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let result = async {
        let mut response = api
            .client
            .get(format!(
                "{}/api/v1/reports/test-results?format=csv",
                api.base
            ))
            .bearer_auth(&api.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let mut records = CsvRecords::default();
        let mut bytes = 0;
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            bytes += chunk.len();
            records.feed(&chunk);
        }
        Ok::<_, String>((records.total(), bytes))
    }
    .await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let (records, bytes) = result?;
    Ok(Export {
        took,
        records,
        bytes,
        rss_before_kb,
        rss_peak_kb: peak.load(Ordering::Relaxed),
        hwm_kb: if reset {
            status_kb(pid, "VmHWM:")
        } else {
            None
        },
    })
}

async fn measure(pg_name: &str, dir: &Path) -> Vec<String> {
    let database_url = format!("postgres://postgres@127.0.0.1:5432/{pg_name}");
    let (bundle, report) = prepare(&database_url).await;
    let mut rows = vec![
        format!("ATT&CK: {bundle}."),
        format!(
            "Generator (`server::seed::seed`, the code behind `aegis seed-demo`): {} tests, {} \
             audit entries ({} history), {} evidence rows, {} remediation steps, {} snapshots \
             in {} ({:.0} tests/s, {:.0} audit entries/s overall).",
            report.tests,
            report.audit_total(),
            report.audit_history,
            report.evidence,
            report.remediation_steps,
            report.snapshots,
            secs(report.elapsed),
            report.tests as f64 / report.elapsed.as_secs_f64(),
            report.audit_total() as f64 / report.elapsed.as_secs_f64(),
        ),
        String::new(),
        format!(
            "| Measure (PostgreSQL, {TESTS} tests, {AUDIT} audit entries) | Median | p95 | Max | Target |"
        ),
        "|---|---|---|---|---|".to_owned(),
    ];
    rows.push(format!(
        "| Generator: {TESTS} tests + {AUDIT} audit entries, one run | {} | | | ~1–2 min |",
        secs(report.elapsed)
    ));

    let Some(server) = ServerProcess::start(&database_url, dir) else {
        rows.push("| Server | could not start the server child | | | |".to_owned());
        return rows;
    };
    let (api, cookie) = Api::login(&server.base).await;

    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Days::new(365);
    let weekly = format!(
        "/api/v1/metrics/team-activity?date_from={year_ago}&date_to={today}&granularity=week"
    );
    let small = Duration::from_millis(100);
    let endpoints: [(&str, String, usize, Duration); 9] = [
        (
            "GET /metrics/summary",
            "/api/v1/metrics/summary".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/by-tactic",
            "/api/v1/metrics/by-tactic".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/test-pipeline",
            "/api/v1/metrics/test-pipeline".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/team-activity (default range)",
            "/api/v1/metrics/team-activity".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/team-activity (365 days, by week)",
            weekly,
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/validation-rate",
            "/api/v1/metrics/validation-rate".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/recent-tests",
            "/api/v1/metrics/recent-tests".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /metrics/coverage-history",
            "/api/v1/metrics/coverage-history".into(),
            REQUESTS,
            small,
        ),
        (
            "GET /reports/coverage-summary",
            "/api/v1/reports/coverage-summary".into(),
            BIG_REQUESTS,
            Duration::from_millis(300),
        ),
    ];
    for (label, path, n, target) in endpoints {
        let warmup = if n == REQUESTS { 10 } else { 3 };
        match api.timed(&path, None, warmup, n).await {
            Ok(samples) => rows.push(row(&format!("{label} ({n} requests)"), samples, target, ms)),
            Err(e) => rows.push(format!("| {label} | failed: {e} | | | |")),
        }
    }

    // The export: no warm-up, so the first, cold run's memory counts too.
    let mut exports = Vec::new();
    let mut failure = None;
    for _ in 0..EXPORT_RUNS {
        match export(&api, server.pid).await {
            Ok(e) => exports.push(e),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if let Some(e) = failure {
        rows.push(format!(
            "| GET /reports/test-results?format=csv | failed: {e} | | | |"
        ));
    } else {
        let records: Vec<usize> = exports.iter().map(|e| e.records).collect();
        let expected = TESTS + 1;
        let check = if records.iter().all(|r| *r == expected) {
            format!("{expected} records incl. header, checked")
        } else {
            format!("**records {records:?}, expected {expected}**")
        };
        rows.push(row(
            &format!(
                "GET /reports/test-results?format=csv ({check}; {:.1} MB; {EXPORT_RUNS} runs, to the last byte)",
                exports[0].bytes as f64 / 1e6
            ),
            exports.iter().map(|e| e.took).collect(),
            Duration::from_secs(3),
            secs,
        ));
        let before = exports[0].rss_before_kb;
        let peak = exports
            .iter()
            .map(|e| e.rss_peak_kb.max(e.hwm_kb.unwrap_or(0)))
            .max()
            .unwrap_or(before);
        let extra = exports
            .iter()
            .map(|e| {
                e.rss_peak_kb
                    .max(e.hwm_kb.unwrap_or(0))
                    .saturating_sub(e.rss_before_kb)
            })
            .max()
            .unwrap_or(0);
        let hwm = exports.iter().filter_map(|e| e.hwm_kb).max();
        let shown = if extra > 50 * 1024 {
            format!("**+{}**", mb(extra))
        } else {
            format!("+{}", mb(extra))
        };
        rows.push(format!(
            "| Server memory during the CSV export (child process, VmRSS every 10 ms{}) | {shown} | RSS before {}, peak {} | {} | < 50 MB extra |",
            if hwm.is_some() { " and VmHWM" } else { "; VmHWM not resettable" },
            mb(before),
            mb(peak),
            hwm.map(|h| format!("VmHWM {}", mb(h))).unwrap_or_default(),
        ));
    }

    match api.timed("/", Some(&cookie), 3, BIG_REQUESTS).await {
        Ok(samples) => rows.push(row(
            &format!(
                "GET / (dashboard page, server-rendered, session cookie; {BIG_REQUESTS} requests)"
            ),
            samples,
            Duration::from_millis(200),
            ms,
        )),
        Err(e) => rows.push(format!("| GET / (dashboard page) | failed: {e} | | | |")),
    }
    drop(server);
    rows
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    support::bench_main("reports", |database, dir| async move {
        measure(&database, &dir).await
    })
    .await;
}
