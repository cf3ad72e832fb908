//! Campaigns' performance targets, at real size (the seeded 100,000-test PostgreSQL database
//! with the real ATT&CK bundle when it is there):
//! - generating the tests of a campaign emulating the threat actor with the most techniques
//!   (one draft per technique, from its best template), in one transaction;
//! - the progress of a campaign of 1,000 tests through the API, median < 50 ms, and the
//!   campaign page server-rendered.
//!
//! Run with `cargo bench -p server --bench campaigns`; prints Markdown rows for BENCHMARKS.md;
//! skips with a reason when PostgreSQL is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use app::domain::rbac::Role;
use app::dto::campaigns::{CreateCampaignRequest, GenerateRequest};
use app::server::campaigns::{self, generate};
use app::server::platform::context::{Actor, CurrentUser};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::time::{Duration, Instant};
use support::{Api, REQUESTS, ServerProcess, ms, row, secs};
use uuid::Uuid;

const RUNS: usize = 5;

async fn lead(db: &DatabaseConnection) -> CurrentUser {
    let found = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT id FROM users WHERE username = $1",
            [support::BENCH_USER.into()],
        ))
        .await
        .unwrap()
        .expect("the seeded red lead");
    CurrentUser {
        id: found.try_get_by_index(0).unwrap(),
        username: support::BENCH_USER.to_owned(),
        display_name: "bench".into(),
        role: Role::RedLead,
        jti: "bench".into(),
        token_expires_at: i64::MAX,
        via_cookie: false,
        token_name: None,
        via_sso: false,
    }
}

/// The threat actor using the most techniques: (ATT&CK id, techniques).
async fn busiest_actor(db: &DatabaseConnection) -> (String, i64) {
    let found = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT a.mitre_id, COUNT(*) FROM threat_actors a \
             JOIN actor_techniques l ON l.actor_id = a.id \
             GROUP BY a.mitre_id ORDER BY COUNT(*) DESC, a.mitre_id LIMIT 1",
        ))
        .await
        .unwrap()
        .expect("an actor with techniques");
    (
        found.try_get_by_index(0).unwrap(),
        found.try_get_by_index(1).unwrap(),
    )
}

async fn new_campaign(db: &DatabaseConnection, user: &CurrentUser, actor: Option<&str>) -> Uuid {
    let request = CreateCampaignRequest {
        name: format!("bench {}", Uuid::new_v4()),
        threat_actor: actor.map(str::to_owned),
        status: Some("active".into()),
        ..Default::default()
    };
    campaigns::create(db, user, &Actor::system("bench"), request)
        .await
        .unwrap()
        .summary
        .id
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    support::bench_main("campaigns", |database, dir| async move {
        let mut rows = vec![
            "| Measure | Median | p95 | Max | Target |".to_owned(),
            "|---|---|---|---|---|".to_owned(),
        ];
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let (bundle, seeded) = support::prepare(&url).await;
        println!("PostgreSQL: {bundle}; seeded {} tests", seeded.tests);
        let db = app::server::platform::db::connect(&url).await.unwrap();
        let user = lead(&db).await;
        let (actor, techniques) = busiest_actor(&db).await;

        // Generation: a fresh campaign each time, so every run drafts every technique.
        let mut samples = Vec::new();
        let mut created = 0;
        for _ in 0..RUNS {
            let id = new_campaign(&db, &user, Some(&actor)).await;
            let started = Instant::now();
            let report = generate::generate(
                &db,
                &user,
                &Actor::system("bench"),
                id,
                GenerateRequest {
                    from: Some("threat_actor".into()),
                    platform: Some("windows".into()),
                },
            )
            .await
            .unwrap();
            samples.push(started.elapsed());
            created = report.created.len();
        }
        rows.push(row(
            &format!(
                "Generate a campaign's tests for {actor} ({techniques} techniques, {created} drafts), 100,000 tests"
            ),
            samples,
            Duration::from_secs(5),
            secs,
        ));

        // A campaign of 1,000 of the seeded tests (in every state).
        let big = new_campaign(&db, &user, None).await;
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE tests SET campaign_id = $1 WHERE id IN \
             (SELECT id FROM tests WHERE campaign_id IS NULL ORDER BY id LIMIT 1000)",
            [big.into()],
        ))
        .await
        .unwrap();
        app::server::workflow::tallies::rebuild(&db).await.unwrap();
        db.close().await.unwrap();

        let Some(server) = ServerProcess::start(&url, &dir) else {
            rows.push("| campaign progress | skipped: the server did not start | | | |".into());
            return rows;
        };
        let (api, cookie) = Api::login(&server.base).await;
        for (label, path, use_cookie, target) in [
            (
                "GET /api/v1/campaigns/{id}/progress (1,000 tests)".to_owned(),
                format!("/api/v1/campaigns/{big}/progress"),
                false,
                50,
            ),
            (
                "GET /campaigns/{id} (campaign page, 1,000 tests, server-rendered)".to_owned(),
                format!("/campaigns/{big}"),
                true,
                150,
            ),
            (
                "GET /api/v1/campaigns (first page)".to_owned(),
                "/api/v1/campaigns".to_owned(),
                false,
                50,
            ),
            (
                "GET /api/v1/tests?campaign={id}".to_owned(),
                format!("/api/v1/tests?campaign={big}"),
                false,
                50,
            ),
        ] {
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
