//! Sustained mixed load (issue 22) on PostgreSQL with the real ATT&CK Enterprise bundle and
//! 100,000 seeded tests: wrk for 60 s with a Lua script that sends 70 % reads (the test list,
//! one test, the technique matrix, the dashboard summary) and 30 % workflow writes (red-side
//! edits and worklog entries on 500 tests in progress, new tests, evidence uploads of 8 KB),
//! signed in as a seeded red lead. Throughput, p50/p95/p99, errors (must be 0) and the
//! server's resident memory; then the same with two server processes on the database, each
//! driven by its own wrk with half the connections.
//!
//! Run with `cargo bench -p server --bench load`. Prints Markdown for BENCHMARKS.md. Needs
//! PostgreSQL on 127.0.0.1:5432 and wrk (`apt-get install wrk`); skips with a reason
//! without either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use support::{Api, ServerProcess, mb, prepare, status_kb};

const SECONDS: u32 = 60;
const CONNECTIONS: u32 = 32;
const WRITE_TARGETS: usize = 500;
const READ_TARGETS: usize = 1_000;

/// What one wrk run reported (its Lua `done` prints one line of these).
#[derive(Default, Debug, Clone)]
struct Figures {
    requests: u64,
    seconds: f64,
    p50_us: f64,
    p95_us: f64,
    p99_us: f64,
    errors: u64,
}

fn parse(output: &str) -> Result<Figures, String> {
    let line = output
        .lines()
        .find(|l| l.starts_with("AEGIS-LOAD "))
        .ok_or_else(|| format!("no summary in wrk's output: {output}"))?;
    let mut figures = Figures::default();
    for pair in line.split_whitespace().skip(1) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, "0"));
        let value: f64 = value.parse().unwrap_or(0.0);
        match key {
            "requests" => figures.requests = value as u64,
            "seconds" => figures.seconds = value,
            "p50" => figures.p50_us = value,
            "p95" => figures.p95_us = value,
            "p99" => figures.p99_us = value,
            "errors" => figures.errors = value as u64,
            _ => {}
        }
    }
    Ok(figures)
}

fn lua_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The workload as a wrk script: ids to read and to write, the token, the mix.
fn script(token: &str, reads: &[String], writes: &[String], techniques: &[String]) -> String {
    let boundary = "aegis-load-boundary";
    let file = "x".repeat(8 * 1024);
    let mut lua = String::new();
    let _ = write!(
        lua,
        r#"
local reads = {{{reads}}}
local writes = {{{writes}}}
local techniques = {{{techniques}}}
local auth = "Bearer {token}"
local json = {{ ["Authorization"] = auth, ["Content-Type"] = "application/json" }}
local plain = {{ ["Authorization"] = auth }}
local form = {{ ["Authorization"] = auth, ["Content-Type"] = "multipart/form-data; boundary={boundary}" }}
local evidence = "--{boundary}\r\nContent-Disposition: form-data; name=\"team\"\r\n\r\nred\r\n" ..
  "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"run.log\"\r\n" ..
  "Content-Type: text/plain\r\n\r\n{file}\r\n--{boundary}--\r\n"
local n = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

local function pick(list) return list[math.random(#list)] end

request = function()
  n = n + 1
  local r = math.random(100)
  if r <= 25 then
    return wrk.format("GET", "/api/v1/tests?limit=50&offset=" .. (math.random(0, 40) * 50), plain)
  elseif r <= 45 then
    return wrk.format("GET", "/api/v1/tests/" .. pick(reads), plain)
  elseif r <= 60 then
    return wrk.format("GET", "/api/v1/techniques", plain)
  elseif r <= 70 then
    return wrk.format("GET", "/api/v1/metrics/summary", plain)
  elseif r <= 82 then
    return wrk.format("PATCH", "/api/v1/tests/" .. pick(writes) .. "/red", json,
      '{{"red_notes": "load run ' .. n .. '", "tool_used": "wrk"}}')
  elseif r <= 90 then
    return wrk.format("POST", "/api/v1/tests/" .. pick(writes) .. "/worklog", json,
      '{{"minutes": 5, "note": "load run ' .. n .. '"}}')
  elseif r <= 95 then
    return wrk.format("POST", "/api/v1/tests", json,
      '{{"title": "Load ' .. n .. '", "technique_id": "' .. pick(techniques) .. '"}}')
  else
    return wrk.format("POST", "/api/v1/tests/" .. pick(writes) .. "/evidence", form, evidence)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("AEGIS-LOAD requests=%d seconds=%.3f p50=%.0f p95=%.0f p99=%.0f errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"#,
        reads = lua_list(reads),
        writes = lua_list(writes),
        techniques = lua_list(techniques),
    );
    lua
}

/// One wrk process against `base`.
fn wrk(base: &str, script: &Path, connections: u32) -> std::process::Child {
    Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{SECONDS}s"),
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(script)
        .arg(base)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wrk")
}

fn ms(us: f64) -> String {
    format!("{:.1} ms", us / 1000.0)
}

/// Drives every server in `servers` at once, each with its share of the connections.
fn drive(servers: &[&ServerProcess], script: &Path) -> Result<(Figures, Vec<u64>), String> {
    let share = CONNECTIONS / servers.len() as u32;
    let children: Vec<_> = servers
        .iter()
        .map(|s| wrk(&s.base, script, share))
        .collect();
    let mut total = Figures::default();
    for child in children {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        let figures = parse(&String::from_utf8_lossy(&output.stdout))?;
        total.requests += figures.requests;
        total.seconds = total.seconds.max(figures.seconds);
        // Over several servers: the slower one's percentiles.
        total.p50_us = total.p50_us.max(figures.p50_us);
        total.p95_us = total.p95_us.max(figures.p95_us);
        total.p99_us = total.p99_us.max(figures.p99_us);
        total.errors += figures.errors;
    }
    let rss = servers
        .iter()
        .map(|s| status_kb(s.pid, "VmRSS").unwrap_or(0))
        .collect();
    Ok((total, rss))
}

fn row(label: &str, result: Result<(Figures, Vec<u64>), String>) -> String {
    match result {
        Ok((f, rss)) => format!(
            "| {label} | {:.0} | {} | {} | {} | {}{} | {} |",
            f.requests as f64 / f.seconds.max(0.001),
            ms(f.p50_us),
            ms(f.p95_us),
            ms(f.p99_us),
            if f.errors == 0 { "" } else { "**" },
            f.errors,
            rss.iter().map(|kb| mb(*kb)).collect::<Vec<_>>().join(" + "),
        ),
        Err(e) => format!("| {label} | failed: {e} | | | | | |"),
    }
}

async fn targets(api: &Api) -> (Vec<String>, Vec<String>, Vec<String>) {
    let get = |path: String| {
        let request = api
            .client
            .get(format!("{}{path}", api.base))
            .bearer_auth(&api.token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let mut reads = Vec::new();
    for page in 0..READ_TARGETS / 100 {
        let body = get(format!("/api/v1/tests?limit=100&offset={}", page * 997)).await;
        for item in body["items"].as_array().unwrap() {
            reads.push(item["id"].as_str().unwrap().to_owned());
        }
    }
    let techniques: Vec<String> = get("/api/v1/techniques".to_owned())
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["is_subtechnique"] != true)
        .filter_map(|t| t["mitre_id"].as_str().map(str::to_owned))
        .take(200)
        .collect();
    let mut writes = Vec::new();
    for i in 0..WRITE_TARGETS {
        let created: Value = api
            .client
            .post(format!("{}/api/v1/tests", api.base))
            .bearer_auth(&api.token)
            .json(&json!({"title": format!("Load target {i}"), "technique_id": techniques[i % techniques.len()]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_owned();
        let started = api
            .client
            .post(format!("{}/api/v1/tests/{id}/start-execution", api.base))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert!(started.status().is_success(), "{}", started.status());
        writes.push(id);
    }
    (reads, writes, techniques)
}

#[tokio::main]
async fn main() {
    support::bench_main("load", |database, dir| async move {
        if Command::new("wrk").arg("--version").output().is_err() {
            return vec!["skipping the load benchmark: wrk is not installed (apt-get install wrk)".into()];
        }
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let (bundle, seeded) = prepare(&url).await;
        let one = ServerProcess::start(&url, &dir.join("one")).expect("server");
        let (api, _) = Api::login(&one.base).await;
        let (reads, writes, techniques) = targets(&api).await;
        let script_path = dir.join("load.lua");
        std::fs::write(&script_path, script(&api.token, &reads, &writes, &techniques)).unwrap();
        let idle = status_kb(one.pid, "VmRSS").unwrap_or(0);
        let single = drive(&[&one], &script_path);
        let two = ServerProcess::start(&url, &dir.join("two")).expect("second server");
        let double = drive(&[&one, &two], &script_path);
        let peak: Vec<String> = [&one, &two]
            .iter()
            .map(|s| mb(status_kb(s.pid, "VmHWM").unwrap_or(0)))
            .collect();
        vec![
            format!("ATT&CK: {bundle}. Seeded: {} tests.", seeded.tests),
            format!(
                "wrk, 60 s, {CONNECTIONS} connections in all; 70 % reads / 30 % writes (see the header of server/benches/load.rs). Server RSS idle: {}.",
                mb(idle)
            ),
            String::new(),
            "| Servers | req/s | p50 | p95 | p99 | errors | RSS after |".into(),
            "|---|---|---|---|---|---|---|".into(),
            row("1", single),
            row("2 (one database)", double),
            String::new(),
            format!("Peak RSS (VmHWM): {}.", peak.join(" and ")),
        ]
    })
    .await;
}
