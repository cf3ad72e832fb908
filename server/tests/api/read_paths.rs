//! Read paths at real size (issue 24): the test counters kept by every change agree with a
//! full recount after a random run of the workflow, and a cached answer changes right after
//! every kind of change that affects it, on the server that made the change and on a second
//! server on the same database; unchanged answers are a 304 for a client that holds them.
use crate::common::{Backend, TestApp, json_body};
use crate::workflow::{BUNDLE, Crew, act, create_test, patch, vote};
use crate::{for_each_backend, on_both_backends};
use app::server::workflow::tallies;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    counters_match_a_recount_after_random_work,
    deep_pages_match_the_pages_before_them
);
for_each_backend!(cached_answers_follow_every_change_on_every_server);

const TECHNIQUES: [&str; 4] = ["T1059", "T1059.001", "T1053", "T1595"];
const PLATFORMS: [Option<&str>; 3] = [Some("windows"), Some("linux"), None];

/// A small deterministic generator (xorshift), so a failing run can be repeated from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

async fn test_of(app: &TestApp, token: &str, id: &str) -> Value {
    json_body(app.get(&format!("/api/v1/tests/{id}"), token).await).await
}

async fn vote_status(app: &TestApp, token: &str, id: &str, side: &str, status: &str) -> u16 {
    app.post_json(
        &format!("/api/v1/tests/{id}/validate-{side}"),
        token,
        json!({ format!("{side}_validation_status"): status }),
    )
    .await
    .status()
    .as_u16()
}

/// One random step of the workflow on the test `id`, whatever state it is in.
async fn step(app: &TestApp, crew: &Crew, rng: &mut Rng, id: &str) {
    let test = test_of(app, &crew.admin, id).await;
    let version = test["version"].as_i64().unwrap();
    match test["state"].as_str().unwrap() {
        "draft" => {
            if rng.below(3) == 0 {
                // A general edit that moves the test to another technique and platform.
                patch(
                    app,
                    &crew.red_lead,
                    &format!("/api/v1/tests/{id}"),
                    json!({
                        "version": version,
                        "technique_id": rng.pick(&TECHNIQUES),
                        "platform": rng.pick(&PLATFORMS),
                    }),
                    200,
                )
                .await;
            } else {
                act(app, &crew.red_tech, id, "start-execution", 200).await;
            }
        }
        "red_executing" => {
            act(app, &crew.red_tech, id, "submit-red", 200).await;
        }
        "blue_evaluating" => {
            let result = *rng.pick(&["detected", "partial", "not_detected"]);
            patch(
                app,
                &crew.blue_tech,
                &format!("/api/v1/tests/{id}/blue"),
                json!({"detection_result": result}),
                200,
            )
            .await;
            act(app, &crew.blue_tech, id, "submit-blue", 200).await;
        }
        "in_review" => {
            // Both leads at once. A rejection decides at once, so the other vote may then
            // find the test rejected (409); two approvals both count.
            let red = *rng.pick(&["approved", "approved", "rejected"]);
            let blue = *rng.pick(&["approved", "approved", "rejected"]);
            let (a, b) = tokio::join!(
                vote_status(app, &crew.red_lead, id, "red", red),
                vote_status(app, &crew.blue_lead, id, "blue", blue),
            );
            if red == "approved" && blue == "approved" {
                assert_eq!((a, b), (200, 200));
            } else {
                assert!(a == 200 || b == 200, "{a} {b}");
                assert!(
                    [200, 409].contains(&a) && [200, 409].contains(&b),
                    "{a} {b}"
                );
            }
        }
        "rejected" => {
            act(app, &crew.red_lead, id, "reopen", 200).await;
        }
        _ => {
            // Validated: a retest in a new test.
            create_test(
                app,
                &crew.red_lead,
                json!({"title": "Retest", "technique_id": test["technique_id"], "retest_of": id}),
            )
            .await;
        }
    }
}

async fn counters_match_a_recount_after_random_work(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let seed = 0x2026_1201_u64 ^ u64::from(app.backend == Backend::Postgres);
    println!("random workflow seed {seed:#x}");
    let mut rng = Rng(seed);
    let mut ids = Vec::new();
    for n in 0..60 {
        if ids.is_empty() || rng.below(4) == 0 {
            let mut body = json!({
                "title": format!("Random test {n}"),
                "technique_id": rng.pick(&TECHNIQUES),
            });
            if let Some(platform) = rng.pick(&PLATFORMS) {
                body["platform"] = json!(platform);
            }
            if rng.below(2) == 0 {
                body["assigned_red_id"] = json!(crew.red_tech_id);
            }
            if rng.below(2) == 0 {
                body["assigned_blue_id"] = json!(crew.blue_tech_id);
            }
            let token = if rng.below(2) == 0 {
                &crew.red_lead
            } else {
                &crew.admin
            };
            let test = create_test(&app, token, body).await;
            ids.push(test["id"].as_str().unwrap().to_owned());
        } else {
            let id = rng.pick(&ids).clone();
            step(&app, &crew, &mut rng, &id).await;
        }
    }

    let db = app.database().await;
    let stored = tallies::stored(&db).await.unwrap();
    let recounted = tallies::recount(&db).await.unwrap();
    assert!(!recounted.is_empty());
    assert_eq!(
        stored, recounted,
        "maintained counters drifted from a recount"
    );

    // What the list and the matrix show is that recount, unfiltered and per filter.
    let page = json_body(app.get("/api/v1/tests?limit=5", &crew.viewer).await).await;
    let all: i64 = recounted
        .iter()
        .filter(|(k, _)| k.0 == app::domain::tallies::TallyDimension::All)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(page["total"].as_i64().unwrap(), all);
    for technique in TECHNIQUES {
        let page = json_body(
            app.get(
                &format!("/api/v1/tests?technique={technique}&limit=1"),
                &crew.viewer,
            )
            .await,
        )
        .await;
        let counted = json_body(
            app.get(
                // Every title holds "test": the same tests, counted from the rows.
                &format!("/api/v1/tests?technique={technique}&search=test&limit=1"),
                &crew.viewer,
            )
            .await,
        )
        .await;
        assert_eq!(page["counts"], counted["counts"], "{technique}");
        let searched = json_body(
            app.get(
                &format!("/api/v1/tests?technique={technique}&platform=windows&limit=1"),
                &crew.viewer,
            )
            .await,
        )
        .await;
        // Two filters are counted from the tests themselves: never more than one filter.
        for (state, n) in searched["counts"].as_object().unwrap() {
            assert!(
                n.as_u64() <= page["counts"][state].as_u64(),
                "{technique} {state}"
            );
        }
        let listed: Vec<Value> = json_body(app.get("/api/v1/techniques", &crew.viewer).await)
            .await
            .as_array()
            .unwrap()
            .clone();
        let entry = listed.iter().find(|t| t["mitre_id"] == technique).unwrap();
        assert_eq!(entry["test_count"], page["total"], "{technique}");
    }
    // Pending tasks per role and the votes still missing: from the counters, and (with a
    // search every title matches) counted from the rows.
    for token in [
        &crew.red_tech,
        &crew.blue_tech,
        &crew.red_lead,
        &crew.blue_lead,
        &crew.admin,
        &crew.viewer,
    ] {
        for query in [
            "mine=true",
            "pending_validation_side=red",
            "pending_validation_side=blue",
        ] {
            let kept = json_body(
                app.get(&format!("/api/v1/tests?{query}&limit=3"), token)
                    .await,
            )
            .await;
            let counted = json_body(
                app.get(&format!("/api/v1/tests?{query}&search=test&limit=3"), token)
                    .await,
            )
            .await;
            assert_eq!(kept["counts"], counted["counts"], "{query}");
            assert_eq!(kept["total"], counted["total"], "{query}");
            assert_eq!(kept["items"], counted["items"], "{query}");
        }
    }
    for platform in ["windows", "linux"] {
        let page = json_body(
            app.get(
                &format!("/api/v1/tests?platform={platform}&limit=1"),
                &crew.viewer,
            )
            .await,
        )
        .await;
        let expected: i64 = recounted
            .iter()
            .filter(|(k, _)| {
                k.0 == app::domain::tallies::TallyDimension::Platform && k.1 == platform
            })
            .map(|(_, n)| n)
            .sum();
        assert_eq!(page["total"].as_i64().unwrap(), expected, "{platform}");
    }
    app
}

/// GET `path` on `base` with an optional `If-None-Match`; the status, ETag and body.
async fn fetch(
    app: &TestApp,
    url: String,
    token: &str,
    etag: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut request = app.client.get(url).bearer_auth(token);
    if let Some(tag) = etag {
        request = request.header("If-None-Match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let tag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, tag, body)
}

fn find<'a>(list: &'a Value, mitre_id: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["mitre_id"] == mitre_id)
}

async fn cached_answers_follow_every_change_on_every_server(backend: Backend) {
    let app = TestApp::start(backend).await;
    let twin = app.twin().await;
    let crew = Crew::hire(&app).await;
    let token = &crew.viewer;
    let on_app = |path: &str| app.url(path);
    let on_twin = |path: &str| twin.url(path);

    // Both servers give the same answer under the same tag, and a 304 for it.
    let (status, tag, first) = fetch(&app, on_app("/api/v1/techniques"), token, None).await;
    assert_eq!(status, 200);
    assert!(tag.starts_with("W/\""), "{tag}");
    let (_, twin_tag, twin_first) = fetch(&app, on_twin("/api/v1/techniques"), token, None).await;
    assert_eq!((&twin_tag, &twin_first), (&tag, &first));
    let (status, again, body) = fetch(&app, on_twin("/api/v1/techniques"), token, Some(&tag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(again, tag);
    assert_eq!(body, Value::Null);
    let (_, tactics_tag, _) = fetch(&app, on_twin("/api/v1/tactics"), token, None).await;
    let (_, summary_tag, summary) =
        fetch(&app, on_twin("/api/v1/metrics/summary"), token, None).await;
    assert_eq!(summary["total_tests"], 0);

    // A new test: its technique's count and the metrics move on the other server at once;
    // the tactics, which no test changes, keep their tag.
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Cached", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap().to_owned();
    let (status, tag2, listed) =
        fetch(&app, on_twin("/api/v1/techniques"), token, Some(&tag)).await;
    assert_eq!(status, 200, "the old tag no longer matches");
    assert_ne!(tag2, tag);
    assert_eq!(find(&listed, "T1059").unwrap()["test_count"], 1);
    let (status, _, _) = fetch(&app, on_twin("/api/v1/tactics"), token, Some(&tactics_tag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, summary) = fetch(
        &app,
        on_twin("/api/v1/metrics/summary"),
        token,
        Some(&summary_tag),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(summary["total_tests"], 1);

    // A test's state: validated and detected makes its technique covered, everywhere.
    act(&app, &crew.red_tech, &id, "start-execution", 200).await;
    act(&app, &crew.red_tech, &id, "submit-red", 200).await;
    patch(
        &app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": "detected"}),
        200,
    )
    .await;
    act(&app, &crew.blue_tech, &id, "submit-blue", 200).await;
    let (_, before_vote, _) = fetch(&app, on_twin("/api/v1/techniques"), token, None).await;
    vote(&app, &crew.red_lead, &id, "red", "approved", 200).await;
    vote(&app, &crew.blue_lead, &id, "blue", "approved", 200).await;
    let (status, _, listed) = fetch(
        &app,
        on_twin("/api/v1/techniques"),
        token,
        Some(&before_vote),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        find(&listed, "T1059").unwrap()["coverage_status"],
        "validated"
    );
    let (_, _, listed) = fetch(&app, on_app("/api/v1/techniques"), token, None).await;
    assert_eq!(
        find(&listed, "T1059").unwrap()["coverage_status"],
        "validated"
    );

    // A sync that renames a technique.
    let (_, before_sync, _) = fetch(&app, on_app("/api/v1/techniques"), token, None).await;
    let renamed = BUNDLE.replace("\"Active Scanning\"", "\"Active Scanning (renamed)\"");
    assert_eq!(
        app.import_bundle(&crew.admin, "bundle.json", renamed.into_bytes())
            .await
            .status(),
        200
    );
    let (status, _, listed) = fetch(
        &app,
        on_twin("/api/v1/techniques"),
        token,
        Some(&before_sync),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        find(&listed, "T1595").unwrap()["name"],
        "Active Scanning (renamed)"
    );

    // A custom technique.
    let (_, before_custom, _) = fetch(&app, on_twin("/api/v1/techniques"), token, None).await;
    let response = app
        .post_json(
            "/api/v1/techniques",
            &crew.admin,
            json!({"mitre_id": "T9001", "name": "In-house deploy tool", "tactics": ["execution"]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let (status, _, listed) = fetch(
        &app,
        on_twin("/api/v1/techniques"),
        token,
        Some(&before_custom),
    )
    .await;
    assert_eq!(status, 200);
    assert!(find(&listed, "T9001").is_some());

    // A technique set import, then a new version of it with other members.
    let layer = |ids: &[&str]| {
        json!({
            "name": "Priorities",
            "domain": "enterprise-attack",
            "techniques": ids.iter().map(|id| json!({"techniqueID": id})).collect::<Vec<_>>(),
        })
    };
    let response = app
        .post_json(
            "/api/v1/reports/navigator-layer",
            &crew.red_lead,
            layer(&["T1059"]),
        )
        .await;
    assert_eq!(response.status(), 201);
    let (_, set_tag, listed) = fetch(
        &app,
        on_twin("/api/v1/techniques?technique_set=Priorities"),
        token,
        None,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let response = app
        .post_json(
            "/api/v1/reports/navigator-layer",
            &crew.red_lead,
            layer(&["T1053", "T1595"]),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (status, _, listed) = fetch(
        &app,
        on_twin("/api/v1/techniques?technique_set=Priorities"),
        token,
        Some(&set_tag),
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["mitre_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T1053", "T1595"]);

    // The tag of an answer follows its query, and a refused query is never cached.
    let (status, _, _) = fetch(
        &app,
        on_twin("/api/v1/techniques?status=nonsense"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = fetch(&app, on_twin("/api/v1/techniques"), "not-a-token", None).await;
    assert_eq!(
        status, 401,
        "a cached answer still needs a signed-in caller"
    );

    drop(twin);
    app.finish().await;
}

/// Pages from offset 1,000 on are found by id first: the same tests, in the same order, as the
/// page before them shows where they overlap.
async fn deep_pages_match_the_pages_before_them(app: TestApp) -> TestApp {
    use app::server::entities::security_test;
    use app::server::workflow::rows::{NewTest, draft_row};
    use sea_orm::{EntityTrait, IntoActiveModel};
    let crew = Crew::hire(&app).await;
    let me = json_body(app.get("/api/v1/auth/me", &crew.red_lead).await).await;
    let creator: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let db = app.database().await;
    let start = chrono::Utc::now() - chrono::Duration::days(30);
    let rows: Vec<security_test::ActiveModel> = (0..1_200)
        .map(|n| {
            let new = NewTest {
                title: format!("Bulk {n}"),
                technique_id: TECHNIQUES[n % TECHNIQUES.len()].to_owned(),
                created_by: creator,
                ..Default::default()
            };
            // A few share a timestamp: the id breaks the tie the same way on both paths.
            let at = start + chrono::Duration::seconds((n / 3) as i64);
            draft_row(uuid::Uuid::new_v4(), new, at).into_active_model()
        })
        .collect();
    for part in rows.chunks(200) {
        security_test::Entity::insert_many(part.to_vec())
            .exec_without_returning(&db)
            .await
            .unwrap();
    }
    tallies::rebuild(&db).await.unwrap();
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = json_body(
        app.get("/api/v1/tests?offset=980&limit=60", &crew.viewer)
            .await,
    )
    .await;
    let deep = json_body(
        app.get("/api/v1/tests?offset=1000&limit=40", &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(deep["total"], 1_200);
    assert_eq!(ids(&deep), ids(&before)[20..]);
    let last = json_body(
        app.get("/api/v1/tests?offset=1190&limit=50", &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(ids(&last).len(), 10);
    let filtered = json_body(
        app.get(
            "/api/v1/tests?technique=T1053&offset=1000&limit=50",
            &crew.viewer,
        )
        .await,
    )
    .await;
    assert_eq!(filtered["total"], 300);
    assert!(filtered["items"].as_array().unwrap().is_empty());
    app
}
