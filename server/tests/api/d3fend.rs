//! D3FEND through the API: the ontology imported from an upload and from the configured URL
//! (a local server), the derived countermeasures of techniques, sub-techniques and their
//! parents, the D3FEND technique list and its filters, re-imports (unchanged; an edited
//! ontology updates and removes), bad files, roles, the test page's offer; and the real
//! ontology of `../shared/data` when it is there.
use crate::catalog_sources::import;
use crate::common::{Backend, TestApp, json_body, wait_for_run};
use crate::{for_each_backend, on_both_backends};
use serde_json::Value;
use std::path::Path;

on_both_backends!(
    countermeasures_are_derived_from_the_ontology,
    the_real_ontology_counters_the_real_techniques
);
for_each_backend!(the_ontology_downloads_from_the_configured_url_and_bad_files_fail_clearly);

const BUNDLE: &str = include_str!("../fixtures/attack-mini.json");
const PASSWORD: &str = "a-long-password-1";

/// A small ontology shaped like D3FEND's: artifacts, tactics, defensive techniques acting on
/// artifacts, ATT&CK techniques using them (T1059.001 only through its parent).
const ONTOLOGY: &str = r#"@prefix : <http://d3fend.mitre.org/ontologies/d3fend.owl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

:DigitalArtifact a owl:Class ; rdfs:label "Digital Artifact" .
:File a owl:Class ; rdfs:label "File" ; rdfs:subClassOf :DigitalArtifact .
:ExecutableFile a owl:Class ; rdfs:label "Executable File" ; rdfs:subClassOf :File .
:ExecutableScript a owl:Class ; rdfs:label "Executable Script" ; rdfs:subClassOf :ExecutableFile .
:Process a owl:Class ; rdfs:label "Process" ; rdfs:subClassOf :DigitalArtifact .

:Detect a owl:Class ; rdfs:label "Detect" ; :d3fend-id "D3-DETECT" .
:Deceive a owl:Class ; rdfs:label "Deceive" ; :d3fend-id "D3-DECEIVE" .
:Evict a owl:Class ; rdfs:label "Evict" ; :d3fend-id "D3-EVICT" .

:FileAnalysis a owl:Class, owl:NamedIndividual, :FileAnalysis ;
    rdfs:label "File Analysis" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :enables ; owl:someValuesFrom :Detect ] ;
    :d3fend-id "D3-FA" ;
    :definition "Analyzing files." .
:DynamicAnalysis a owl:Class ;
    rdfs:label "Dynamic Analysis" ;
    rdfs:subClassOf :FileAnalysis,
        [ a owl:Restriction ; owl:onProperty :analyzes ; owl:someValuesFrom :ExecutableFile ] ;
    :d3fend-id "D3-DA" ;
    :definition "Executing a file in a sandbox." .
:ScriptExecutionAnalysis a owl:Class ;
    rdfs:label "Script Execution Analysis" ;
    rdfs:subClassOf :FileAnalysis,
        [ a owl:Restriction ; owl:onProperty :analyzes ; owl:someValuesFrom :ExecutableScript ] ;
    :d3fend-id "D3-SEA" ;
    :definition "Watching scripts run." .
:DecoyFile a owl:Class ;
    rdfs:label "Decoy File" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :spoofs ; owl:someValuesFrom :File ] ;
    :enables :Deceive ;
    :d3fend-id "D3-DF" ;
    :definition "A file planted to be found." .
:ProcessTermination a owl:Class ;
    rdfs:label "Process Termination" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :terminates ; owl:someValuesFrom :Process ],
        [ a owl:Restriction ; owl:onProperty :enables ; owl:someValuesFrom :Evict ] ;
    :d3fend-id "D3-PT" ;
    :definition "Ending a process." .

:ExecutionTechnique a owl:Class ; rdfs:label "Execution Technique" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :executes ; owl:someValuesFrom :File ] .
:T1059 a owl:Class ; rdfs:label "Command and Scripting Interpreter" ;
    rdfs:subClassOf :ExecutionTechnique,
        [ a owl:Restriction ; owl:onProperty :executes ; owl:someValuesFrom :ExecutableScript ] ;
    :attack-id "T1059" .
:T1059.001 a owl:Class ; rdfs:label "PowerShell" ; rdfs:subClassOf :T1059 ; :attack-id "T1059.001" .
:T1053 a owl:Class ; rdfs:label "Scheduled Task/Job" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :creates ; owl:someValuesFrom :Process ] ;
    :attack-id "T1053" .
:T9999 a owl:Class ; rdfs:label "Not in ATT&CK v18" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :creates ; owl:someValuesFrom :Process ] ;
    :attack-id "T9999" .
"#;

fn upload(bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("d3fend.ttl"),
    )
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c[field].as_str().unwrap().to_owned())
        .collect()
}

async fn countermeasures_are_derived_from_the_ontology(app: TestApp) -> TestApp {
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(&admin, "attack.json", BUNDLE.as_bytes().to_vec())
            .await
            .status(),
        200
    );
    app.create_user(&admin, "lead", "blue_lead", PASSWORD).await;
    app.create_user(&admin, "viewer1", "viewer", PASSWORD).await;
    let lead = app.login("lead", PASSWORD).await;
    let viewer = app.login("viewer1", PASSWORD).await;

    // Only admins import.
    let refused = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-d3fend",
            Some(&lead),
        )
        .multipart(upload(ONTOLOGY.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let report = import(&app, &admin, "d3fend", upload(ONTOLOGY.as_bytes().to_vec())).await;
    assert_eq!(report["source"], "upload:d3fend.ttl", "{report}");
    assert_eq!(report["techniques_added"], 5, "{report}");
    // T1059 and T1059.001: D3-SEA, D3-DA, D3-DF; T1053 and T9999: D3-PT. The tactic class's
    // generic `executes File` adds nothing.
    assert_eq!(report["countermeasures_added"], 8, "{report}");
    assert_eq!(report["attack_ids"], 4, "{report}");
    assert_eq!(report["attack_ids_countered"], 4, "{report}");
    assert_eq!(report["unknown_attack_ids"], 1, "{report}");
    assert_eq!(report["without_tactic"], 0, "{report}");

    // A sub-technique counters through its parent's artifact, grouped by tactic.
    let response = app
        .get("/api/v1/techniques/T1059.001/countermeasures", &viewer)
        .await;
    assert_eq!(response.status(), 200);
    let list = json_body(response).await;
    assert_eq!(ids(&list, "d3fend_id"), ["D3-DA", "D3-SEA", "D3-DF"]);
    assert_eq!(ids(&list, "tactic"), ["detect", "detect", "deceive"]);
    assert_eq!(
        ids(&list, "artifact"),
        ["Executable File", "Executable Script", "File"]
    );
    let sea = &list[1];
    assert_eq!(sea["name"], "Script Execution Analysis");
    assert_eq!(sea["definition"], "Watching scripts run.");
    assert_eq!(sea["attack_id"], "T1059.001");
    assert_eq!(
        sea["url"],
        "https://d3fend.mitre.org/technique/d3f:ScriptExecutionAnalysis/"
    );
    assert_eq!(sea["links"][0]["offensive_relation"], "executes");
    assert_eq!(sea["links"][0]["offensive_artifact"], "Executable Script");
    assert_eq!(sea["links"][0]["defensive_relation"], "analyzes");

    // A sub-technique D3FEND does not know gets its parent's; a technique with none, none.
    let inherited = json_body(
        app.get("/api/v1/techniques/t1059.004/countermeasures", &viewer)
            .await,
    )
    .await;
    assert_eq!(ids(&inherited, "attack_id"), ["T1059", "T1059", "T1059"]);
    let none = app
        .get("/api/v1/techniques/T1595/countermeasures", &viewer)
        .await;
    assert_eq!(none.status(), 200);
    assert_eq!(json_body(none).await, serde_json::json!([]));
    let missing = app
        .get("/api/v1/techniques/T0000/countermeasures", &viewer)
        .await;
    assert_eq!(missing.status(), 404);
    assert!(json_body(missing).await["detail"].is_string());

    // The technique page's detail carries them too.
    let technique = json_body(app.get("/api/v1/techniques/T1053", &viewer).await).await;
    assert_eq!(ids(&technique["countermeasures"], "d3fend_id"), ["D3-PT"]);
    assert_eq!(technique["countermeasures"][0]["tactic"], "evict");

    // The D3FEND techniques, filtered.
    let all = json_body(app.get("/api/v1/d3fend/techniques", &viewer).await).await;
    assert_eq!(
        ids(&all, "d3fend_id"),
        ["D3-DA", "D3-FA", "D3-SEA", "D3-DF", "D3-PT"]
    );
    let da = &all[0];
    assert_eq!(da["parent_d3fend_id"], "D3-FA");
    assert_eq!(da["attack_technique_count"], 2);
    let detect = json_body(
        app.get("/api/v1/d3fend/techniques?tactic=Detect", &viewer)
            .await,
    )
    .await;
    assert_eq!(detect.as_array().unwrap().len(), 3);
    let searched = json_body(
        app.get("/api/v1/d3fend/techniques?search=SANDBOX", &viewer)
            .await,
    )
    .await;
    assert_eq!(ids(&searched, "d3fend_id"), ["D3-DA"]);
    let bad = app
        .get("/api/v1/d3fend/techniques?tactic=attack", &viewer)
        .await;
    assert_eq!(bad.status(), 422);
    assert!(json_body(bad).await["fields"]["tactic"].is_string());

    // A test's remediation is offered its technique's countermeasures.
    let response = app
        .post_json(
            "/api/v1/tests",
            &admin,
            serde_json::json!({"title": "Scheduled task", "technique_id": "T1053"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let test = json_body(response).await;
    let detail = json_body(
        app.get(
            &format!("/api/v1/tests/{}", test["id"].as_str().unwrap()),
            &viewer,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&detail["countermeasures"], "d3fend_id"), ["D3-PT"]);

    // The same ontology again changes nothing.
    let again = import(&app, &admin, "d3fend", upload(ONTOLOGY.as_bytes().to_vec())).await;
    assert_eq!(again["techniques_unchanged"], 5, "{again}");
    assert_eq!(again["countermeasures_unchanged"], 8, "{again}");
    for field in [
        "techniques_added",
        "techniques_updated",
        "techniques_removed",
        "countermeasures_added",
        "countermeasures_updated",
        "countermeasures_removed",
    ] {
        assert_eq!(again[field], 0, "{field}: {again}");
    }

    // An edited ontology: Decoy File is gone, Dynamic Analysis is redefined.
    let start = ONTOLOGY.find(":DecoyFile a owl:Class").unwrap();
    let end = ONTOLOGY[start..].find(":ProcessTermination").unwrap() + start;
    let edited = format!("{}{}", &ONTOLOGY[..start], &ONTOLOGY[end..])
        .replace("Executing a file in a sandbox.", "Detonating a file.");
    let changed = import(&app, &admin, "d3fend", upload(edited.into_bytes())).await;
    assert_eq!(changed["techniques_updated"], 1, "{changed}");
    assert_eq!(changed["techniques_removed"], 1, "{changed}");
    assert_eq!(changed["countermeasures_removed"], 2, "{changed}");
    assert_eq!(changed["countermeasures_unchanged"], 6, "{changed}");
    let list = json_body(
        app.get("/api/v1/techniques/T1059.001/countermeasures", &viewer)
            .await,
    )
    .await;
    assert_eq!(ids(&list, "d3fend_id"), ["D3-DA", "D3-SEA"]);
    assert_eq!(list[0]["definition"], "Detonating a file.");

    // Each import is one audit entry.
    let audit = json_body(
        app.get("/api/v1/audit-logs?action=d3fend.import", &admin)
            .await,
    )
    .await;
    assert_eq!(audit["total"], 3, "{audit}");
    app
}

/// Serves `body` at `/d3fend.ttl` on a free local port; returns the URL.
async fn serve(body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/d3fend.ttl", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/d3fend.ttl",
        axum::routing::get(move || async move { body }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

async fn the_ontology_downloads_from_the_configured_url_and_bad_files_fail_clearly(
    backend: Backend,
) {
    let url = serve(ONTOLOGY).await;
    let app = TestApp::start_with(backend, &[("AEGIS_D3FEND_URL", url.clone())]).await;
    let admin = app.admin_token().await;
    let response = app.post("/api/v1/system/import-d3fend", &admin).await;
    assert_eq!(response.status(), 202);
    let job = json_body(response).await;
    let run = wait_for_run(&app, &admin, job["job_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["source"], url.as_str());
    assert_eq!(run["result"]["report"]["techniques_added"], 5);

    // Not Turtle, and Turtle that is not D3FEND: the run fails at once, saying why.
    for (bytes, says) in [
        (b"{\"json\": true}".to_vec(), "Not a readable Turtle file"),
        (
            b"@prefix : <http://example.com/> .\n:a :b :c .".to_vec(),
            "No D3FEND technique",
        ),
    ] {
        let response = app
            .request(
                reqwest::Method::POST,
                "/api/v1/system/import-d3fend",
                Some(&admin),
            )
            .multipart(upload(bytes))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let job = json_body(response).await;
        let run = wait_for_run(&app, &admin, job["job_id"].as_str().unwrap()).await;
        assert_eq!(run["status"], "failed", "{run}");
        assert_eq!(run["attempts"], 1, "bad input is not retried: {run}");
        assert!(run["error"].as_str().unwrap().contains(says), "{run}");
    }
    // A form without the file is refused before any job.
    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/system/import-d3fend",
            Some(&admin),
        )
        .multipart(reqwest::multipart::Form::new())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = json_body(response).await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert!(body["detail"].is_string(), "{body}");
    println!("an empty form: {status} {body}");
    // Nothing of the failed imports was written.
    let all = json_body(app.get("/api/v1/d3fend/techniques", &admin).await).await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    app.finish().await;
}

/// The shipped ontology (D3FEND 1.2.0) against the real ATT&CK bundle: the README's chain
/// (Golden Ticket → Token Binding through the Kerberos ticket-granting ticket), and every
/// countermeasure names a tactic.
async fn the_real_ontology_counters_the_real_techniques(app: TestApp) -> TestApp {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let (ttl, bundle) = (
        shared.join("d3fend/d3fend-protege.ttl"),
        shared.join("attack/enterprise-attack.json"),
    );
    if !ttl.exists() || !bundle.exists() {
        println!("skipped: ../shared/data (d3fend, ATT&CK) is not there");
        return app;
    }
    let admin = app.admin_token().await;
    assert_eq!(
        app.import_bundle(
            &admin,
            "enterprise-attack.json",
            std::fs::read(&bundle).unwrap()
        )
        .await
        .status(),
        200
    );
    let report = import(&app, &admin, "d3fend", upload(std::fs::read(&ttl).unwrap())).await;
    println!("D3FEND 1.2.0: {report}");
    assert!(
        report["techniques_added"].as_u64().unwrap() > 240,
        "{report}"
    );
    assert!(
        report["countermeasures_added"].as_u64().unwrap() > 3_500,
        "{report}"
    );
    let list = json_body(
        app.get("/api/v1/techniques/T1558.001/countermeasures", &admin)
            .await,
    )
    .await;
    let tb = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["d3fend_id"] == "D3-TB")
        .unwrap_or_else(|| panic!("Token Binding counters Golden Ticket: {list}"));
    assert_eq!(tb["tactic"], "harden");
    assert!(
        tb["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["offensive_artifact"] == "Kerberos Ticket Granting Ticket"),
        "{tb}"
    );
    let again = import(&app, &admin, "d3fend", upload(std::fs::read(&ttl).unwrap())).await;
    assert_eq!(again["countermeasures_added"], 0, "{again}");
    assert_eq!(again["countermeasures_updated"], 0, "{again}");
    assert_eq!(again["techniques_updated"], 0, "{again}");
    app
}
