//! Several server processes on one database, as a deployment behind a load balancer runs
//! them: what one process knows, the others know (sessions, revocations, sign-in limits,
//! evidence on S3); a scheduled job fires once per tick however many processes fire it; the
//! dual vote loses nothing when its two halves reach two processes at once; the webhook outbox
//! delivers each event once. And the shared sign-in limiter itself, on both backends.
use crate::common::moto::Moto;
use crate::common::{ADMIN_PASSWORD, Backend, TestApp, json_body, wait_for_run};
use crate::evidence::{form, sha256};
use crate::for_each_backend;
use crate::scoring::MAPPING;
use crate::webhooks::{create as create_webhook, receive};
use crate::workflow::{Crew, PASSWORD, act, create_test, test_in_review};
use app::server::importers::uploads::UploadDir;
use app::server::platform::rate_limit::RateLimiter;
use reqwest::{Method, RequestBuilder};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

for_each_backend!(the_limiter_counts_in_the_database);

#[tokio::test]
async fn two_replicas_share_one_database() {
    let test = "the two-replica test";
    let Some(moto) = Moto::start_with_bucket(test, "replicas").await else {
        return;
    };
    let mut shared = moto.storage_vars("replicas");
    // Every second, on both: a tick that ran twice would show as two runs of one tick.
    shared.push(("AEGIS_SCHEDULE_NOTIFICATION_CLEANUP", "* * * * * *".into()));
    for job in [
        "MITRE_SYNC",
        "WEEKLY_SNAPSHOT",
        "INTEL_SCAN",
        "RECURRING_CAMPAIGNS",
        "SCORING_RECOMPUTE",
    ] {
        let name: &'static str = Box::leak(format!("AEGIS_SCHEDULE_{job}").into_boxed_str());
        shared.push((name, "off".into()));
    }
    shared.push(("AEGIS_WEBHOOK_BACKOFF_MS", "50".into()));
    let a = TestApp::start_with(Backend::Postgres, &shared).await;
    let b = a.spawn_process(&[]).await;
    let on_b = |method: Method, path: &str, token: Option<&str>| -> RequestBuilder {
        let builder = a.client.request(method, b.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    };
    let health = on_b(Method::GET, "/health", None).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // A token issued by one works on the other; a logout on one revokes it on both.
    let token = a.admin_token().await;
    let me = on_b(Method::GET, "/api/v1/auth/me", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(json_body(me).await["username"], "admin");
    let out = on_b(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(a.get("/api/v1/auth/me", &token).await.status(), 401);

    let crew = Crew::hire(&a).await;

    // The sign-in limit counts attempts on both: 3 on A and 2 on B use up the 5.
    let login_b = |username: &str, password: &str| {
        on_b(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    for _ in 0..3 {
        let response = a.login_response("viewer_user", "not-the-password").await;
        assert_eq!(response.status(), 401);
    }
    for _ in 0..2 {
        let response = login_b("viewer_user", "not-the-password").await.unwrap();
        assert_eq!(response.status(), 401);
    }
    assert_eq!(
        login_b("viewer_user", PASSWORD).await.unwrap().status(),
        429,
        "B counted A's attempts"
    );
    assert_eq!(
        a.login_response("viewer_user", PASSWORD).await.status(),
        429,
        "A counted B's attempts"
    );
    assert_eq!(
        login_b("admin", ADMIN_PASSWORD).await.unwrap().status(),
        200,
        "per username: the admin signs in"
    );

    // Every validated test reaches a webhook once, whichever process's sender takes it.
    let (receiver_url, receiver) = receive().await;
    let (status, hook) = create_webhook(
        &a,
        &crew.admin,
        json!({"url": format!("{receiver_url}/ok"), "events": ["test.validated"], "secret": "a-webhook-secret-of-some-length"}),
    )
    .await;
    assert_eq!(status, 201, "{hook}");

    // 100 tests in review; their 200 votes at once, red through A and blue through B.
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(test_in_review(&a, &crew, "T1059", "detected").await);
    }
    let votes = ids.iter().flat_map(|id| {
        let red = a
            .request(
                Method::POST,
                &format!("/api/v1/tests/{id}/validate-red"),
                Some(&crew.red_lead),
            )
            .json(&json!({"status": "approved"}))
            .send();
        let blue = on_b(
            Method::POST,
            &format!("/api/v1/tests/{id}/validate-blue"),
            Some(&crew.blue_lead),
        )
        .json(&json!({"status": "approved"}))
        .send();
        [red, blue]
    });
    let answers = futures::future::join_all(votes).await;
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }
    for id in &ids {
        let test = json_body(a.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await).await;
        assert_eq!(test["state"], "validated", "{test}");
        assert_eq!(test["red_validation_status"], "approved");
        assert_eq!(test["blue_validation_status"], "approved");
    }
    // The maintained counters saw every change, from both processes.
    let listed = json_body(
        on_b(
            Method::GET,
            "/api/v1/tests?state=validated&limit=1",
            Some(&crew.viewer),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(listed["total"], 100, "{listed}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received = receiver.received.lock().unwrap().len();
        if received >= 100 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{received} of 100 webhooks arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both senders have had time to send a copy, were there one to send.
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let received = receiver.received.lock().unwrap();
        let mut per_delivery: HashMap<&str, usize> = HashMap::new();
        for one in received.iter() {
            assert_eq!(one.event, "test.validated");
            *per_delivery.entry(one.delivery.as_str()).or_default() += 1;
        }
        assert_eq!(per_delivery.len(), 100, "one delivery per validated test");
        assert!(
            per_delivery.values().all(|n| *n == 1),
            "a delivery was sent twice"
        );
    }

    // Evidence uploaded to B is downloadable from A.
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let running = create_test(
        &a,
        &crew.red_lead,
        json!({"title": "Evidence across replicas", "technique_id": "T1059"}),
    )
    .await;
    let running = running["id"].as_str().unwrap();
    act(&a, &crew.red_tech, running, "start-execution", 200).await;
    let uploaded = on_b(
        Method::POST,
        &format!("/api/v1/tests/{running}/evidence"),
        Some(&crew.red_tech),
    )
    .multipart(form(Some("red"), "run.png", content.clone()))
    .send()
    .await
    .unwrap();
    let status = uploaded.status();
    let uploaded = json_body(uploaded).await;
    assert!(status == 201, "{status}: {uploaded}");
    let evidence = uploaded["id"].as_str().unwrap();
    let info = json_body(
        a.get(&format!("/api/v1/evidence/{evidence}"), &crew.viewer)
            .await,
    )
    .await;
    let url = info["download_url"].as_str().unwrap();
    assert!(url.starts_with(&moto.endpoint()), "{url}");
    let fetched = a.client.get(url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(sha256(&fetched.bytes().await.unwrap()), sha256(&content));

    // An import uploaded to B waits in the shared store, not in B's folder, so whichever
    // process's worker takes the job reads it; the job removes it when done.
    let response = on_b(
        Method::POST,
        "/api/v1/system/import-compliance",
        Some(&crew.admin),
    )
    .multipart(reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(MAPPING.as_bytes().to_vec()).file_name("nist.json"),
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 202);
    let enqueued = json_body(response).await;
    let run = wait_for_run(&a, &crew.admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["report"]["controls_added"], 3, "{run}");
    assert!(
        std::fs::read_dir(b.data_dir.join("uploads"))
            .unwrap()
            .next()
            .is_none(),
        "nothing is left in B's folder, whichever worker took the job"
    );
    let listing = a
        .client
        .get(format!(
            "{}/replicas?list-type=2&prefix=uploads/",
            moto.endpoint()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !listing.contains("<Key>"),
        "the job removed the upload: {listing}"
    );

    // The mechanics on their own: an upload published by one machine's folder is fetched
    // into another's, byte for byte, and discarded from both.
    let store = std::sync::Arc::new(
        app::server::workflow::evidence_store::EvidenceStore::s3(
            app::server::workflow::evidence_store::S3Settings {
                bucket: "replicas".into(),
                endpoint: Some(moto.endpoint()),
                public_endpoint: None,
                region: "us-east-1".into(),
                access_key_id: Some("testing".into()),
                secret_access_key: Some("testing".into()),
                allow_http: true,
            },
            b"a-key-for-signing-urls",
            1 << 20,
        )
        .unwrap(),
    );
    let machine = |name: &str| {
        let dir = a.data_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        UploadDir::create(&dir)
            .unwrap()
            .shared_through(store.clone())
    };
    let (here, there) = (machine("here"), machine("there"));
    std::fs::write(here.file("up.zip"), &content).unwrap();
    here.publish("up.zip").await.unwrap();
    assert!(
        !here.file("up.zip").exists(),
        "published uploads leave the folder"
    );
    let fetched = there.fetch("up.zip").await.unwrap().unwrap();
    assert_eq!(sha256(&std::fs::read(&fetched).unwrap()), sha256(&content));
    there.discard("up.zip").await;
    assert!(!fetched.exists());
    assert!(
        there.fetch("up.zip").await.unwrap().is_none(),
        "gone from the store"
    );

    // The schedule fired on both all along: each tick made one run.
    let db = a.database().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT scheduled_for, COUNT(*) AS runs FROM job_runs \
             WHERE job = 'notification_cleanup' GROUP BY scheduled_for",
        ))
        .await
        .unwrap();
    let ticks: Vec<(Option<i64>, i64)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get::<Option<i64>>("", "scheduled_for").unwrap(),
                row.try_get::<i64>("", "runs").unwrap(),
            )
        })
        .collect();
    assert!(
        ticks.len() >= 3,
        "the test ran for seconds with a schedule of every second: {ticks:?}"
    );
    assert!(
        ticks
            .iter()
            .all(|(tick, runs)| tick.is_some() && *runs == 1),
        "a tick ran more than once, or a scheduled run has no tick: {ticks:?}"
    );
    drop(b);
    a.finish().await;
    drop(moto);
}

async fn the_limiter_counts_in_the_database(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = app.database().await;
    let limiter = std::sync::Arc::new(RateLimiter::new(
        db.clone(),
        "test",
        5,
        Duration::from_secs(60),
    ));
    // Parallel attempts cannot outrun the count.
    let attempts = (0..40).map(|_| {
        let limiter = limiter.clone();
        tokio::spawn(async move { limiter.try_acquire("alice").await.unwrap().is_ok() })
    });
    let passed = futures::future::join_all(attempts)
        .await
        .into_iter()
        .filter(|ok| *ok.as_ref().unwrap())
        .count();
    assert_eq!(passed, 5);
    let wait = limiter.try_acquire("alice").await.unwrap().unwrap_err();
    assert!((1..=60).contains(&wait), "{wait}");
    // Keys and limiters are independent; another process's limiter counts the same rows.
    assert!(limiter.try_acquire("bob").await.unwrap().is_ok());
    let other = RateLimiter::new(db.clone(), "other", 1, Duration::from_secs(60));
    assert!(other.try_acquire("alice").await.unwrap().is_ok());
    let same = RateLimiter::new(db.clone(), "test", 5, Duration::from_secs(60));
    assert!(same.try_acquire("alice").await.unwrap().is_err());
    // Release gives one back; reset forgets the key.
    limiter.release("alice").await.unwrap();
    assert!(same.try_acquire("alice").await.unwrap().is_ok());
    assert!(limiter.try_acquire("alice").await.unwrap().is_err());
    limiter.reset("alice").await.unwrap();
    assert!(limiter.try_acquire("alice").await.unwrap().is_ok());
    // A window ends: the count starts again.
    let short = RateLimiter::new(db.clone(), "short", 2, Duration::from_secs(2));
    short.try_acquire("k").await.unwrap().unwrap();
    short.try_acquire("k").await.unwrap().unwrap();
    assert!(short.try_acquire("k").await.unwrap().is_err());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(short.try_acquire("k").await.unwrap().is_ok());
    // An over-long key is cut, not refused by the database.
    assert!(limiter.try_acquire(&"é".repeat(500)).await.unwrap().is_ok());
    // Expired windows are swept as attempts come in.
    let sweeping = RateLimiter::new(db.clone(), "sweep", 1, Duration::from_millis(1));
    for i in 0..300 {
        sweeping
            .try_acquire(&format!("spray{i}"))
            .await
            .unwrap()
            .unwrap();
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let left = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM rate_limits WHERE \"key\" LIKE 'sweep:%'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(left < 300, "expired rows were swept: {left} left");
    app.finish().await;
}
