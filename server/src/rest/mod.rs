//! The REST API under `/api/v1`: each handler checks the caller, calls a service and maps the
//! result. The rules live in the services.
mod admin;
mod cached;
mod campaigns;
mod catalog;
mod compliance;
mod detection;
mod evidence;
pub mod extract;
mod intel;
mod knowledge;
mod notifications;
pub mod openapi;
mod reporting;
mod scoring;
mod webhooks;
mod workflow;

use admin::{audit, auth, system, users};
use reporting::{metrics, reports};

use app::domain::rbac::Permission as P;
use app::error::AppError;
use app::server::platform::state::AppState;
use axum::Router;
use axum::response::{IntoResponse, Response};
use openapi::{Api, Body, Limit, Success, op};
use serde_json::Value;
use std::sync::OnceLock;

/// A Navigator layer of the whole Enterprise matrix with comments is well under this.
const LAYER_LIMIT: usize = 10 * 1024 * 1024;

const RED_OR_BLUE: &str = "The red fields go to the red team (red_tech, red_lead) and the blue fields to the blue team (blue_tech, blue_lead); admins may do both. The test's state decides what may change.";
const LEADS: &str =
    "Each lead votes for their own team (red_lead, blue_lead); an admin may vote for either.";

/// The document, once built ([`router`] builds it with the routes).
static DOCUMENT: OnceLock<Value> = OnceLock::new();

/// The API description of every `/api/v1` route (OpenAPI 3.1).
pub fn document() -> &'static Value {
    DOCUMENT.get_or_init(|| api(usize::MAX).finish().1)
}

/// `max_import_bytes` bounds the one route that takes whole ATT&CK bundles.
pub fn router(max_import_bytes: usize) -> Router<AppState> {
    let (router, document) = api(max_import_bytes).finish();
    let _ = DOCUMENT.set(document);
    router
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("Method not allowed on this endpoint".into())
        })
        .fallback(|| async { AppError::NotFound("No such API endpoint".into()) })
}

/// `/api/docs`: Swagger UI over the document, from files compiled into the binary (no CDN;
/// its scripts and styles are served from this origin, so the CSP stays as it is).
pub fn docs() -> Router<AppState> {
    let config = utoipa_swagger_ui::Config::from("/api/v1/openapi.json")
        .try_it_out_enabled(true)
        .persist_authorization(true)
        .display_operation_id(false)
        .filter(true);
    utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(config)
        .into()
}

async fn openapi_json() -> Response {
    (
        [(http::header::CACHE_CONTROL, "no-cache")],
        axum::Json(document()),
    )
        .into_response()
}

/// Every route: the handler, what it is, who may call it.
fn api(max_import_bytes: usize) -> Api {
    let upload = || Limit::Streamed;
    Api::new()
        .get("/openapi.json", openapi_json, op("This API description (OpenAPI 3.1)").public().responses(|_| {
            vec![Success { status: 200, description: "The document", content: Some(("application/json", serde_json::json!({ "type": "object" }))) }]
        }))
        // Auth and users
        .post("/auth/login", auth::login, op("Sign in: a bearer token, and the session cookie for browsers").public()
            .note("Too many failed attempts from one address or for one user are refused with 429 for a while.")
            .body(|s| Body {
                content: vec![
                    ("application/json", s.of::<app::dto::admin::auth::LoginRequest>()),
                    ("application/x-www-form-urlencoded", s.of::<app::dto::admin::auth::LoginRequest>()),
                ],
                required: true,
            })
            .responses(|s| vec![Success::json::<app::dto::admin::auth::TokenResponse>(s, 200)]))
        .get("/auth/sign-in-options", auth::sign_in_options, op("How one may sign in here: single sign-on (its label and where it starts) and who may use a password").public())
        .get("/auth/me", auth::me, op("The signed-in user's profile").needs(P::ManageOwnAccount))
        .post("/auth/logout", auth::logout, op("Sign out: revokes the token (on every replica) and clears the cookie")
            .responses(|_| vec![Success::empty(204, "Signed out")]))
        .get("/auth/tokens", auth::tokens, op("The caller's active API tokens (never their secrets)").needs(P::ManageOwnAccount))
        .post("/auth/tokens", auth::create_token, op("Create an API token for automation: send it as `Authorization: Bearer aegis_pat_…`; shown once").needs(P::ManageOwnAccount)
            .note("The token acts as its user, or with a lower `role`; every action with it is audited with its name."))
        .delete("/auth/tokens/{id}", auth::revoke_token, op("Revoke one of the caller's API tokens, at once").needs(P::ManageOwnAccount))
        .get("/users", users::list, op("List users").needs(P::ManageUsers))
        .post("/users", users::create, op("Create a user").needs(P::ManageUsers))
        .get("/users/{id}", users::get, op("One user").needs(P::ManageUsers))
        .patch("/users/{id}", users::update, op("Change a user's role, name, password or active flag").needs(P::ManageUsers))
        .get("/users/{id}/tokens", users::tokens, op("A service account's active API tokens (never their secrets)").needs(P::ManageUsers)
            .note("Only for service accounts (users created with `service_account: true`); people list their own under `/auth/tokens`."))
        .post("/users/{id}/tokens", users::create_token, op("Create an API token for a service account; shown once").needs(P::ManageUsers))
        .delete("/users/{id}/tokens/{token_id}", users::revoke_token, op("Revoke a service account's API token, at once").needs(P::ManageUsers))
        .get("/audit-logs", audit::list, op("The audit log, newest first, filtered").needs(P::ViewAuditLog))
        .get("/audit-logs/actions", audit::actions, op("The actions the audit log holds").needs(P::ViewAuditLog))
        .get("/audit-logs/entity-types", audit::entity_types, op("The entity types the audit log holds").needs(P::ViewAuditLog))
        // Knowledge base
        .get("/techniques", knowledge::techniques, op("ATT&CK techniques with coverage, filtered").needs(P::ViewData))
        .post("/techniques", knowledge::create_technique, op("Create a custom technique").needs(P::ManageTechniques))
        .get("/techniques/{mitre_id}", knowledge::technique, op("One technique with its tests, rules, mitigations and actors").needs(P::ViewData))
        .patch("/techniques/{mitre_id}", knowledge::update_technique, op("Edit a technique's local fields").needs(P::ManageTechniques))
        .patch("/techniques/{mitre_id}/review", knowledge::review, op("Clear a technique's review-required flag").needs(P::ReviewTechniques))
        .get("/tactics", knowledge::tactics, op("ATT&CK tactics in matrix order").needs(P::ViewData))
        .get("/threat-actors", knowledge::threat_actors, op("Threat actors (ATT&CK groups)").needs(P::ViewData))
        .get("/threat-actors/{id}", knowledge::threat_actor, op("One threat actor and its techniques").needs(P::ViewData))
        .get("/mitigations", knowledge::mitigations, op("ATT&CK mitigations").needs(P::ViewData))
        .get("/mitigations/{id}", knowledge::mitigation, op("One mitigation and the techniques it covers").needs(P::ViewData))
        .get("/d3fend/techniques", knowledge::d3fend_techniques, op("D3FEND defensive techniques").needs(P::ViewData))
        .get("/techniques/{mitre_id}/countermeasures", knowledge::countermeasures, op("D3FEND countermeasures for a technique").needs(P::ViewData))
        .post("/system/import-attack-bundle", knowledge::import_attack_bundle, op("Import an ATT&CK STIX bundle (upload)").needs(P::ManageSystem)
            .limit(Limit::Max(max_import_bytes)).body(|_| Body::upload(&[])))
        .get("/system/sync-runs", knowledge::sync_runs, op("Past ATT&CK syncs and imports").needs(P::ManageSystem))
        .post("/system/sync-mitre", system::sync_mitre, op("Sync ATT&CK from MITRE now (a background job)").needs(P::ManageSystem).status(202))
        .post("/system/import-atomic-red-team", system::import_atomics, op("Import Atomic Red Team tests (archive upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-caldera", system::import_caldera, op("Import CALDERA abilities (archive upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-lolbas", system::import_lolbas, op("Import LOLBAS entries (archive upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-gtfobins", system::import_gtfobins, op("Import GTFOBins entries (archive upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-sigma", system::import_sigma, op("Import Sigma rules (archive upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-elastic-rules", system::import_elastic_rules, op("Import Elastic detection rules (archive upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-d3fend", system::import_d3fend, op("Import the D3FEND ontology and ATT&CK mappings (upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        .post("/system/import-compliance", system::import_compliance, op("Import a compliance framework mapping (upload; a background job)").needs(P::ManageSystem).status(202).limit(upload()).body(|_| Body::upload(&[])))
        // Scoring and telemetry
        .get("/scoring/config", scoring::get_config, op("The scoring weights in force and their history").needs(P::ViewData))
        .put("/scoring/config", scoring::put_config, op("Change the scoring weights (a new version)").needs(P::ManageScoring))
        .post("/scoring/config/restore/{version}", scoring::restore_config, op("Restore an earlier scoring version").needs(P::ManageScoring).status(200))
        .post("/scoring/preview", scoring::preview, op("What a change of weights would do, without saving it").needs(P::ManageScoring))
        .get("/scoring/techniques", scoring::techniques, op("Techniques by priority score, with the factors behind it").needs(P::ViewData))
        .get("/scoring/summary", scoring::summary, op("The scoring summary").needs(P::ViewData))
        .get("/data-sources", scoring::data_sources, op("ATT&CK data components and how well the team collects them").needs(P::ViewData))
        .patch("/data-sources/{id}", scoring::update_data_source, op("Say whether and how well a data component is collected").needs(P::ManageDataSources))
        // Compliance
        .get("/compliance/frameworks", compliance::frameworks, op("Imported compliance frameworks").needs(P::ViewData))
        .get("/compliance/frameworks/{id}", compliance::framework, op("One framework with its controls' coverage").needs(P::ViewData))
        .get("/compliance/frameworks/{id}/report", compliance::report, op("A framework's coverage report (JSON, or CSV with format=csv)").needs(P::ViewData)
            .responses(|s| {
                let mut json = Success::json::<app::dto::compliance::FrameworkDetail>(s, 200);
                json.description = "The report (JSON; `format=csv` gives text/csv)";
                vec![json]
            }))
        .get("/compliance/controls/{id}", compliance::control, op("One control and the techniques mapped to it").needs(P::ViewData))
        // Catalog
        .get("/system/gtfobins-mapping", catalog::gtfobins_mapping, op("How GTFOBins functions map to ATT&CK techniques").needs(P::ManageTemplates))
        .put("/system/gtfobins-mapping/{function}", catalog::set_gtfobins_mapping, op("Map a GTFOBins function to techniques").needs(P::ManageTemplates))
        .post("/system/run-intel-scan", system::run_intel_scan, op("Fetch the threat-intel feeds now (a background job)").needs(P::ManageSystem).status(202))
        .get("/system/scheduler-status", system::scheduler_status, op("The scheduled jobs: next and last runs").needs(P::ManageSystem))
        .get("/system/jobs", system::job_runs, op("Background job runs, newest first").needs(P::ManageSystem))
        .get("/system/jobs/{id}", system::job_run, op("One job run with its result or error").needs(P::ManageSystem))
        .post("/system/jobs/{id}/run", system::run_job, op("Run a scheduled job now").needs(P::ManageSystem).status(202))
        .get("/test-templates", catalog::list, op("The template catalog, filtered").needs(P::ViewData))
        .post("/test-templates", catalog::create, op("Create a template").needs(P::ManageTemplates))
        .get("/test-templates/stats", catalog::stats, op("Catalog counts by source, platform, severity, tactic").needs(P::ManageTemplates))
        .get("/test-templates/{id}", catalog::get, op("One template").needs(P::ViewData))
        .patch("/test-templates/{id}", catalog::update, op("Edit a template").needs(P::ManageTemplates))
        .delete("/test-templates/{id}", catalog::delete, op("Delete a custom template").needs(P::ManageTemplates))
        .post("/test-templates/{id}/toggle-active", catalog::toggle_active, op("Activate or deactivate a template").needs(P::ManageTemplates))
        // Detection rules
        .get("/detection-rules", detection::list, op("Detection rules (Sigma, Elastic, custom), filtered").needs(P::ViewData))
        .post("/detection-rules", detection::create, op("Write a custom detection rule").needs(P::ManageDetectionRules))
        .get("/detection-rules/{id}", detection::get, op("One detection rule").needs(P::ViewData))
        .patch("/detection-rules/{id}", detection::update, op("Edit a rule (custom rules fully, imported ones' local fields)").needs(P::ManageDetectionRules))
        // Campaigns
        .get("/campaigns", campaigns::list, op("Campaigns").needs(P::ViewData))
        .post("/campaigns", campaigns::create, op("Create a campaign").needs(P::ViewData).note("Needs the manage-campaigns permission (admin, leads)."))
        .get("/campaigns/{id}", campaigns::get, op("One campaign with its tests").needs(P::ViewData))
        .patch("/campaigns/{id}", campaigns::update, op("Edit a campaign").needs(P::ViewData).note("Needs the manage-campaigns permission (admin, leads)."))
        .post("/campaigns/{id}/tests", campaigns::add_tests, op("Add tests to a campaign").needs(P::ViewData).status(200).note("Needs the manage-campaigns permission (admin, leads)."))
        .delete("/campaigns/{id}/tests/{test_id}", campaigns::remove_test, op("Remove a test from a campaign").needs(P::ViewData).note("Needs the manage-campaigns permission (admin, leads)."))
        .post("/campaigns/{id}/generate", campaigns::generate, op("Create the campaign's tests from templates").needs(P::ViewData).note("Needs the manage-campaigns permission (admin, leads)."))
        .get("/campaigns/{id}/progress", campaigns::progress, op("A campaign's progress by state").needs(P::ViewData))
        .get("/attack-campaigns", campaigns::attack_campaigns, op("ATT&CK campaigns").needs(P::ViewData))
        .get("/attack-campaigns/{id}", campaigns::attack_campaign, op("One ATT&CK campaign and its techniques").needs(P::ViewData))
        // Webhooks
        .get("/webhooks", webhooks::list, op("Webhooks").needs(P::ManageSystem))
        .post("/webhooks", webhooks::create, op("Create a webhook (its signing secret is shown once)").needs(P::ManageSystem))
        .get("/webhooks/{id}", webhooks::get, op("One webhook").needs(P::ManageSystem))
        .patch("/webhooks/{id}", webhooks::update, op("Edit a webhook").needs(P::ManageSystem))
        .delete("/webhooks/{id}", webhooks::delete, op("Delete a webhook").needs(P::ManageSystem))
        .post("/webhooks/{id}/test", webhooks::ping, op("Send a test delivery").needs(P::ManageSystem).status(202))
        .get("/webhooks/{id}/deliveries", webhooks::deliveries, op("A webhook's deliveries, newest first").needs(P::ManageSystem))
        // Threat intel
        .get("/intel", intel::list, op("Threat-intel items matched to techniques, filtered").needs(P::ViewData))
        .get("/intel/feeds", intel::feeds, op("Threat-intel feeds").needs(P::ViewData))
        .post("/intel/feeds", intel::create_feed, op("Add a feed").needs(P::ManageSystem))
        .get("/intel/feeds/seeds", intel::seeds, op("Suggested public feeds").needs(P::ManageSystem))
        .get("/intel/feeds/{id}", intel::feed, op("One feed").needs(P::ViewData))
        .patch("/intel/feeds/{id}", intel::update_feed, op("Edit a feed").needs(P::ManageSystem))
        .delete("/intel/feeds/{id}", intel::delete_feed, op("Delete a feed and its items").needs(P::ManageSystem))
        .get("/intel/{id}", intel::get, op("One threat-intel item").needs(P::ViewData))
        .patch("/intel/{id}", intel::update, op("Triage an item (relevant, dismissed, notes)").needs(P::TriageIntel))
        // Notifications
        .get("/notifications", notifications::list, op("The caller's notifications").needs(P::ViewData))
        .get("/notifications/unread-count", notifications::unread_count, op("How many are unread").needs(P::ViewData))
        .post("/notifications/read-all", notifications::mark_all_read, op("Mark all read").needs(P::ViewData))
        .patch("/notifications/{id}/read", notifications::mark_read, op("Mark one read").needs(P::ViewData))
        // Tests: the red/blue workflow
        .get("/tests", workflow::list, op("Tests, filtered and paged").needs(P::ViewData))
        .post("/tests", workflow::create, op("Create a test").needs(P::ViewData).note("Red team and admins create tests."))
        .post("/tests/from-template", workflow::create_from_template, op("Create a test from a catalog template").needs(P::ViewData).note("Red team and admins create tests."))
        .get("/tests/{id}", workflow::get, op("One test with its red and blue sides, votes and evidence").needs(P::ViewData))
        .patch("/tests/{id}", workflow::update, op("Edit a test's general fields (optimistic: send its version)").needs(P::ViewData).note(RED_OR_BLUE))
        .patch("/tests/{id}/red", workflow::update_red, op("Record what the red team did").needs(P::ViewData).note(RED_OR_BLUE))
        .patch("/tests/{id}/blue", workflow::update_blue, op("Record what the blue team detected").needs(P::ViewData).note(RED_OR_BLUE))
        .patch("/tests/{id}/remediation", workflow::update_remediation, op("Edit a gap's remediation plan").needs(P::ViewData).note("Needs the manage-remediation permission."))
        .post("/tests/{id}/start-execution", workflow::start_execution, op("Start the attack (draft → in progress)").needs(P::ViewData).note(RED_OR_BLUE).body(transition_body))
        .post("/tests/{id}/submit-red", workflow::submit_red, op("Hand the test to the blue team").needs(P::ViewData).note(RED_OR_BLUE).body(transition_body))
        .post("/tests/{id}/submit-blue", workflow::submit_blue, op("Submit the blue team's findings for validation").needs(P::ViewData).note(RED_OR_BLUE).body(transition_body))
        .post("/tests/{id}/validate-red", workflow::validate_red, op("The red lead's vote (approve or reject)").needs(P::ViewData).note(LEADS).status(200))
        .post("/tests/{id}/validate-blue", workflow::validate_blue, op("The blue lead's vote (approve or reject)").needs(P::ViewData).note(LEADS).status(200))
        .post("/tests/{id}/reopen", workflow::reopen, op("Reopen a rejected test").needs(P::ViewData).note(RED_OR_BLUE).body(transition_body))
        .post("/tests/{id}/pause-timer", workflow::pause_timer, op("Pause the execution timer").needs(P::ViewData).note("Needs the timer permission (the red team, admins)."))
        .post("/tests/{id}/resume-timer", workflow::resume_timer, op("Resume the execution timer").needs(P::ViewData).note("Needs the timer permission (the red team, admins)."))
        .get("/tests/{id}/timeline", workflow::timeline, op("Everything that happened to a test").needs(P::ViewData))
        .get("/tests/{id}/worklog", workflow::worklog, op("Time logged on a test").needs(P::ViewData))
        .post("/tests/{id}/worklog", workflow::log_work, op("Log time on a test").needs(P::ViewData))
        .patch("/tests/{id}/worklog/{entry_id}", workflow::edit_worklog, op("Edit one's own worklog entry").needs(P::ViewData))
        .delete("/tests/{id}/worklog/{entry_id}", workflow::delete_worklog, op("Delete one's own worklog entry").needs(P::ViewData))
        .get("/tests/{id}/retest-chain", workflow::retest_chain, op("The retests of a test, oldest first").needs(P::ViewData))
        // Evidence: the size limit is enforced while streaming, file by file.
        .post("/tests/{id}/evidence", evidence::upload, op("Upload evidence (multipart: file, team, description)").needs(P::ViewData).note(RED_OR_BLUE).limit(upload())
            .body(|_| Body::upload(&[("team", "red or blue: whose evidence it is"), ("description", "What it shows")])))
        .get("/evidence/{id}", evidence::get, op("An evidence file's details and a signed download link").needs(P::ViewData))
        .get("/evidence/{id}/download", evidence::download, op("Download an evidence file with its signed link").public()
            .note("The link from GET /evidence/{id} is the credential; it expires.")
            .responses(|_| vec![Success::text(200, "application/octet-stream", "The file, as an attachment")]))
        // Dashboard and reports
        .get("/metrics/summary", metrics::summary, op("Dashboard totals").needs(P::ViewData))
        .get("/metrics/by-tactic", metrics::by_tactic, op("Coverage by tactic").needs(P::ViewData))
        .get("/metrics/test-pipeline", metrics::test_pipeline, op("Tests by state").needs(P::ViewData))
        .get("/metrics/team-activity", metrics::team_activity, op("Red and blue activity over time").needs(P::ViewData))
        .get("/metrics/validation-rate", metrics::validation_rate, op("How often tests are validated rather than rejected").needs(P::ViewData))
        .get("/metrics/recent-tests", metrics::recent_tests, op("The latest tests").needs(P::ViewData))
        .get("/metrics/coverage-history", metrics::coverage_history, op("Coverage over time").needs(P::ViewData))
        .get("/reports/coverage-summary", reports::coverage_summary, op("Coverage by technique (JSON)").needs(P::ViewData))
        .get("/reports/coverage-csv", reports::coverage_csv, op("Coverage by technique (CSV download)").needs(P::ViewData)
            .responses(|_| vec![Success::text(200, "text/csv", "CSV, one row per technique")]))
        .get("/reports/detection-rules", reports::detection_rules, op("Detection rules report (CSV or JSON download)").needs(P::ViewData)
            .responses(export))
        .get("/reports/test-results", reports::test_results, op("Test results export (CSV or JSON download)").needs(P::ViewData)
            .responses(export))
        .get("/reports/remediation-status", reports::remediation_status, op("Remediation status export (CSV or JSON download)").needs(P::ViewData)
            .responses(export))
        .get("/reports/navigator-layer", reports::export_layer, op("Coverage as an ATT&CK Navigator layer").needs(P::ViewData)
            .responses(|_| vec![Success { status: 200, description: "A Navigator layer (JSON download)", content: Some(("application/json", serde_json::json!({ "type": "object" }))) }]))
        .post("/reports/navigator-layer", reports::import_layer, op("Import a Navigator layer as a technique set (replaces one with the same key: 200)").needs(P::ManageTechniqueSets)
            .limit(Limit::Max(LAYER_LIMIT))
            .responses(|s| {
                let mut replaced = Success::json::<app::dto::reporting::reports::LayerImportReport>(s, 200);
                replaced.description = "Replaced the set with the same key";
                vec![Success::json::<app::dto::reporting::reports::LayerImportReport>(s, 201), replaced]
            })
            .body(|_| Body { content: vec![("application/json", serde_json::json!({ "type": "object", "description": "An ATT&CK Navigator layer" }))], required: true }))
        .get("/technique-sets", reports::list_sets, op("Imported technique sets").needs(P::ViewData))
        .get("/technique-sets/{key}", reports::get_set, op("One technique set").needs(P::ViewData))
        .delete("/technique-sets/{key}", reports::delete_set, op("Delete a technique set").needs(P::ManageTechniqueSets))
}

/// A transition's optional body: the test's version, for optimistic concurrency.
fn transition_body(schemas: &mut openapi::Schemas) -> Body {
    Body {
        required: false,
        ..Body::json::<app::dto::workflow::TransitionRequest>(schemas)
    }
}

/// A report download: CSV by default, JSON with `format=json`.
fn export(_: &mut openapi::Schemas) -> Vec<Success> {
    vec![Success::text(
        200,
        "text/csv",
        "The report as CSV (or JSON with format=json)",
    )]
}
