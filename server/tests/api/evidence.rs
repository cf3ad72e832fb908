//! Evidence through HTTP: who may upload in which state, streamed uploads with their SHA-256,
//! the size limit, no orphan files, signed downloads that refuse a tampered file, and the same
//! on a real S3-compatible server (moto) with presigned URLs.
use crate::common::moto::Moto;
use crate::common::{Backend, TestApp, json_body};
use crate::workflow::{Crew, act, create_test, patch};
use crate::{for_each_backend, on_both_backends};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

on_both_backends!(
    uploads_follow_the_team_and_state_rules,
    downloads_are_signed_and_verified,
    failed_uploads_leave_no_orphans,
);
for_each_backend!(
    uploads_over_the_limit_are_refused,
    evidence_on_s3_is_presigned_and_verified
);

pub fn form(team: Option<&str>, name: &str, bytes: Vec<u8>) -> Form {
    let mut form = Form::new();
    if let Some(team) = team {
        form = form.text("team", team.to_owned());
    }
    form.text("description", "Screenshot of the run".to_owned())
        .part(
            "file",
            Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str("image/png")
                .unwrap(),
        )
}

pub async fn upload(app: &TestApp, token: &str, test: &str, form: Form) -> (u16, Value) {
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/tests/{test}/evidence"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

async fn uploads_follow_the_team_and_state_rules(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Evidence", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    let png = b"\x89PNG fake screenshot".to_vec();

    // draft: red pre-work files yes, blue no, viewers never.
    let (status, red) = upload(
        &app,
        &crew.red_tech,
        id,
        form(Some("red"), "../../etc/shot 1.png", png.clone()),
    )
    .await;
    assert_eq!(status, 201, "{red}");
    assert_eq!(red["team"], "red");
    assert_eq!(red["filename"], "shot 1.png");
    assert_eq!(red["content_type"], "image/png");
    assert_eq!(red["size_bytes"], png.len());
    assert_eq!(red["sha256"], sha256(&png));
    assert_eq!(red["description"], "Screenshot of the run");
    let (status, body) = upload(
        &app,
        &crew.blue_tech,
        id,
        form(Some("blue"), "b.png", png.clone()),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("draft"));
    let (status, _) = upload(
        &app,
        &crew.viewer,
        id,
        form(Some("red"), "v.png", png.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = upload(
        &app,
        &crew.blue_tech,
        id,
        form(Some("red"), "r.png", png.clone()),
    )
    .await;
    assert_eq!(status, 403, "a blue tech never uploads red evidence");

    act(&app, &crew.red_tech, id, "start-execution", 200).await;
    let (status, _) = upload(
        &app,
        &crew.red_lead,
        id,
        form(Some("red"), "exec.log", b"log".to_vec()),
    )
    .await;
    assert_eq!(status, 201);
    act(&app, &crew.red_tech, id, "submit-red", 200).await;
    let (status, _) = upload(
        &app,
        &crew.red_tech,
        id,
        form(Some("red"), "late.png", png.clone()),
    )
    .await;
    assert_eq!(status, 409);
    let (status, blue) = upload(
        &app,
        &crew.blue_tech,
        id,
        form(Some("blue"), "siem.png", png.clone()),
    )
    .await;
    assert_eq!(status, 201, "{blue}");
    patch(
        &app,
        &crew.blue_tech,
        &format!("/api/v1/tests/{id}/blue"),
        json!({"detection_result": "detected"}),
        200,
    )
    .await;
    act(&app, &crew.blue_tech, id, "submit-blue", 200).await;
    // in review: locked for everyone, admins included.
    for (token, team) in [
        (&crew.admin, "red"),
        (&crew.admin, "blue"),
        (&crew.blue_tech, "blue"),
    ] {
        let (status, body) = upload(&app, token, id, form(Some(team), "x.png", png.clone())).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("in_review"));
    }

    let detail = json_body(app.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await).await;
    let names = |side: &str| -> Vec<String> {
        detail[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["filename"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("red_evidence"), vec!["shot 1.png", "exec.log"]);
    assert_eq!(names("blue_evidence"), vec!["siem.png"]);
    let timeline = json_body(
        app.get(&format!("/api/v1/tests/{id}/timeline"), &crew.viewer)
            .await,
    )
    .await;
    let uploads: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "evidence.upload")
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        uploads,
        vec![
            "Uploaded red evidence shot 1.png",
            "Uploaded red evidence exec.log",
            "Uploaded blue evidence siem.png"
        ]
    );
    app
}

async fn downloads_are_signed_and_verified(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Download", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (status, uploaded) = upload(
        &app,
        &crew.red_tech,
        id,
        form(Some("red"), "capture \"1\".pcap", content.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let evidence_id = uploaded["id"].as_str().unwrap();

    let info = json_body(
        app.get(&format!("/api/v1/evidence/{evidence_id}"), &crew.viewer)
            .await,
    )
    .await;
    assert_eq!(info["sha256"], sha256(&content));
    assert_eq!(info["filename"], "capture _1_.pcap");
    let url = info["download_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("/api/v1/evidence/{evidence_id}/download?expires=")));
    assert!(info["expires_at"].is_string());
    // The link is the credential: no token needed.
    let response = app.request(Method::GET, &url, None).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"capture _1_.pcap\""),
        "{disposition}"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().to_vec(), content);

    // Forged or expired links are refused.
    let forged = format!("{}0", &url[..url.len() - 1]);
    let forged = if forged == url {
        format!("{}1", &url[..url.len() - 1])
    } else {
        forged
    };
    assert_eq!(
        app.request(Method::GET, &forged, None)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let expired = format!("/api/v1/evidence/{evidence_id}/download?expires=1&signature=00");
    assert_eq!(
        app.request(Method::GET, &expired, None)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/evidence/{}", uuid::Uuid::new_v4()),
            &crew.viewer
        )
        .await
        .status(),
        404
    );

    // Someone alters the stored file: the download refuses, loudly.
    let stored = files_under(&app.data_dir().join("evidence"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    let mut altered = content.clone();
    altered[1000] ^= 0xff;
    std::fs::write(&stored[0], &altered).unwrap();
    let response = app.request(Method::GET, &url, None).send().await.unwrap();
    assert_eq!(response.status(), 409);
    let body = json_body(response).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Integrity check failed"),
        "{body}"
    );
    let audit = json_body(
        app.get(
            "/api/v1/audit-logs?action=evidence.integrity_failure",
            &crew.admin,
        )
        .await,
    )
    .await;
    assert_eq!(audit["total"], 1, "{audit}");
    app
}

async fn failed_uploads_leave_no_orphans(app: TestApp) -> TestApp {
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Orphans", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    let store = app.data_dir().join("evidence");
    // The team arrives after the file and is wrong: the stored bytes are removed.
    let late_bad_team = Form::new()
        .part("file", Part::bytes(vec![7u8; 10_000]).file_name("a.bin"))
        .text("team", "green");
    let (status, body) = upload(&app, &crew.red_tech, id, late_bad_team).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["team"].is_string());
    // No team at all.
    let no_team = Form::new().part("file", Part::bytes(vec![7u8; 10]).file_name("a.bin"));
    let (status, body) = upload(&app, &crew.red_tech, id, no_team).await;
    assert_eq!(status, 422, "{body}");
    // A blue upload in draft, team given after the file: refused after storing, then removed.
    let late_blue = Form::new()
        .part("file", Part::bytes(vec![7u8; 10]).file_name("a.bin"))
        .text("team", "blue");
    let (status, _) = upload(&app, &crew.admin, id, late_blue).await;
    assert_eq!(status, 409);
    // No file.
    let (status, body) = upload(&app, &crew.red_tech, id, Form::new().text("team", "red")).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["file"].is_string());
    // Not multipart.
    let response = app
        .post_json(
            &format!("/api/v1/tests/{id}/evidence"),
            &crew.red_tech,
            json!({"team": "red"}),
        )
        .await;
    assert_eq!(response.status(), 415);
    assert!(files_under(&store).is_empty(), "{:?}", files_under(&store));
    let detail = json_body(app.get(&format!("/api/v1/tests/{id}"), &crew.viewer).await).await;
    assert_eq!(detail["red_evidence"], json!([]));
    assert_eq!(detail["blue_evidence"], json!([]));
    app
}

async fn uploads_over_the_limit_are_refused(backend: Backend) {
    let app = TestApp::start_with(backend, &[("AEGIS_MAX_EVIDENCE_BYTES", "1048576".into())]).await;
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "Big", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    let (status, body) = upload(
        &app,
        &crew.red_tech,
        id,
        form(Some("red"), "big.bin", vec![1u8; 1_600_000]),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("1 MB"), "{body}");
    assert!(files_under(&app.data_dir().join("evidence")).is_empty());
    // Exactly at the limit is fine.
    let (status, _) = upload(
        &app,
        &crew.red_tech,
        id,
        form(Some("red"), "edge.bin", vec![1u8; 1_048_576]),
    )
    .await;
    assert_eq!(status, 201);
    app.finish().await;
}

async fn evidence_on_s3_is_presigned_and_verified(backend: Backend) {
    let Some(moto) = Moto::start_with_bucket("the S3 evidence test", "evidence").await else {
        return;
    };
    let endpoint = moto.endpoint();
    let client = reqwest::Client::new();
    let app = TestApp::start_with(backend, &moto.storage_vars("evidence")).await;
    let crew = Crew::hire(&app).await;
    let test = create_test(
        &app,
        &crew.red_lead,
        json!({"title": "S3", "technique_id": "T1059"}),
    )
    .await;
    let id = test["id"].as_str().unwrap();
    // Larger than one 5 MB part, so the multipart path is used.
    let content: Vec<u8> = (0..7_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (status, uploaded) = upload(
        &app,
        &crew.red_tech,
        id,
        form(Some("red"), "dump.bin", content.clone()),
    )
    .await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["sha256"], sha256(&content));
    let evidence_id = uploaded["id"].as_str().unwrap();
    let info = json_body(
        app.get(&format!("/api/v1/evidence/{evidence_id}"), &crew.viewer)
            .await,
    )
    .await;
    let url = info["download_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{endpoint}/evidence/evidence/{id}/")),
        "{url}"
    );
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let fetched = client.get(url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(sha256(&fetched.bytes().await.unwrap()), sha256(&content));

    // Tamper with the object in the bucket: no URL is handed out any more.
    let key = url.split('?').next().unwrap().to_owned();
    assert!(
        client
            .put(&key)
            .body(b"replaced".to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let response = app
        .get(&format!("/api/v1/evidence/{evidence_id}"), &crew.viewer)
        .await;
    assert_eq!(response.status(), 409);
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .unwrap()
            .contains("Integrity check failed")
    );

    // Over-limit and refused uploads leave nothing in the bucket.
    let listing = client
        .get(format!("{endpoint}/evidence?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listing.matches("<Key>").count(), 1, "{listing}");
    app.finish().await;
    drop(moto);
}
