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
mod reporting;
mod scoring;
mod webhooks;
mod workflow;

use admin::{audit, auth, system, users};
use reporting::{metrics, reports};

use app::error::AppError;
use app::server::platform::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post, put};

/// A Navigator layer of the whole Enterprise matrix with comments is well under this.
const LAYER_LIMIT: usize = 10 * 1024 * 1024;

/// `max_import_bytes` bounds the one route that takes whole ATT&CK bundles.
pub fn router(max_import_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/me", get(auth::me))
        .route("/auth/logout", post(auth::logout))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::update))
        .route("/audit-logs", get(audit::list))
        .route("/audit-logs/actions", get(audit::actions))
        .route("/audit-logs/entity-types", get(audit::entity_types))
        .route(
            "/techniques",
            get(knowledge::techniques).post(knowledge::create_technique),
        )
        .route(
            "/techniques/{mitre_id}",
            get(knowledge::technique).patch(knowledge::update_technique),
        )
        .route("/techniques/{mitre_id}/review", patch(knowledge::review))
        .route("/tactics", get(knowledge::tactics))
        .route("/threat-actors", get(knowledge::threat_actors))
        .route("/threat-actors/{id}", get(knowledge::threat_actor))
        .route("/mitigations", get(knowledge::mitigations))
        .route("/mitigations/{id}", get(knowledge::mitigation))
        .route("/d3fend/techniques", get(knowledge::d3fend_techniques))
        .route(
            "/techniques/{mitre_id}/countermeasures",
            get(knowledge::countermeasures),
        )
        .route(
            "/system/import-attack-bundle",
            post(knowledge::import_attack_bundle).layer(DefaultBodyLimit::max(max_import_bytes)),
        )
        .route("/system/sync-runs", get(knowledge::sync_runs))
        .route("/system/sync-mitre", post(system::sync_mitre))
        // The multipart reader bounds these uploads itself (AEGIS_MAX_IMPORT_BYTES).
        .route(
            "/system/import-atomic-red-team",
            post(system::import_atomics).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-caldera",
            post(system::import_caldera).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-lolbas",
            post(system::import_lolbas).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-gtfobins",
            post(system::import_gtfobins).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-sigma",
            post(system::import_sigma).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-elastic-rules",
            post(system::import_elastic_rules).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-d3fend",
            post(system::import_d3fend).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/system/import-compliance",
            post(system::import_compliance).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/scoring/config",
            get(scoring::get_config).put(scoring::put_config),
        )
        .route(
            "/scoring/config/restore/{version}",
            post(scoring::restore_config),
        )
        .route("/scoring/preview", post(scoring::preview))
        .route("/scoring/techniques", get(scoring::techniques))
        .route("/scoring/summary", get(scoring::summary))
        .route("/data-sources", get(scoring::data_sources))
        .route("/data-sources/{id}", patch(scoring::update_data_source))
        .route("/compliance/frameworks", get(compliance::frameworks))
        .route("/compliance/frameworks/{id}", get(compliance::framework))
        .route(
            "/compliance/frameworks/{id}/report",
            get(compliance::report),
        )
        .route("/compliance/controls/{id}", get(compliance::control))
        .route("/system/gtfobins-mapping", get(catalog::gtfobins_mapping))
        .route(
            "/system/gtfobins-mapping/{function}",
            put(catalog::set_gtfobins_mapping),
        )
        .route("/system/run-intel-scan", post(system::run_intel_scan))
        .route("/system/scheduler-status", get(system::scheduler_status))
        .route("/system/jobs", get(system::job_runs))
        .route("/system/jobs/{id}", get(system::job_run))
        .route("/system/jobs/{id}/run", post(system::run_job))
        .route("/test-templates", get(catalog::list).post(catalog::create))
        .route("/test-templates/stats", get(catalog::stats))
        .route(
            "/test-templates/{id}",
            get(catalog::get)
                .patch(catalog::update)
                .delete(catalog::delete),
        )
        .route(
            "/test-templates/{id}/toggle-active",
            post(catalog::toggle_active),
        )
        .route(
            "/detection-rules",
            get(detection::list).post(detection::create),
        )
        .route(
            "/detection-rules/{id}",
            get(detection::get).patch(detection::update),
        )
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route(
            "/campaigns/{id}",
            get(campaigns::get).patch(campaigns::update),
        )
        .route("/campaigns/{id}/tests", post(campaigns::add_tests))
        .route(
            "/campaigns/{id}/tests/{test_id}",
            axum::routing::delete(campaigns::remove_test),
        )
        .route("/campaigns/{id}/generate", post(campaigns::generate))
        .route("/campaigns/{id}/progress", get(campaigns::progress))
        .route("/attack-campaigns", get(campaigns::attack_campaigns))
        .route("/attack-campaigns/{id}", get(campaigns::attack_campaign))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/test", post(webhooks::ping))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/intel", get(intel::list))
        .route("/intel/feeds", get(intel::feeds).post(intel::create_feed))
        .route("/intel/feeds/seeds", get(intel::seeds))
        .route(
            "/intel/feeds/{id}",
            get(intel::feed)
                .patch(intel::update_feed)
                .delete(intel::delete_feed),
        )
        .route("/intel/{id}", get(intel::get).patch(intel::update))
        .route("/notifications", get(notifications::list))
        .route(
            "/notifications/unread-count",
            get(notifications::unread_count),
        )
        .route(
            "/notifications/read-all",
            post(notifications::mark_all_read),
        )
        .route("/notifications/{id}/read", patch(notifications::mark_read))
        .route("/tests", get(workflow::list).post(workflow::create))
        .route("/tests/from-template", post(workflow::create_from_template))
        .route("/tests/{id}", get(workflow::get).patch(workflow::update))
        .route("/tests/{id}/red", patch(workflow::update_red))
        .route("/tests/{id}/blue", patch(workflow::update_blue))
        .route(
            "/tests/{id}/remediation",
            patch(workflow::update_remediation),
        )
        .route(
            "/tests/{id}/start-execution",
            post(workflow::start_execution),
        )
        .route("/tests/{id}/submit-red", post(workflow::submit_red))
        .route("/tests/{id}/submit-blue", post(workflow::submit_blue))
        .route("/tests/{id}/validate-red", post(workflow::validate_red))
        .route("/tests/{id}/validate-blue", post(workflow::validate_blue))
        .route("/tests/{id}/reopen", post(workflow::reopen))
        .route("/tests/{id}/pause-timer", post(workflow::pause_timer))
        .route("/tests/{id}/resume-timer", post(workflow::resume_timer))
        .route("/tests/{id}/timeline", get(workflow::timeline))
        .route(
            "/tests/{id}/worklog",
            get(workflow::worklog).post(workflow::log_work),
        )
        .route(
            "/tests/{id}/worklog/{entry_id}",
            patch(workflow::edit_worklog).delete(workflow::delete_worklog),
        )
        .route("/tests/{id}/retest-chain", get(workflow::retest_chain))
        // The evidence limit is enforced while streaming, file by file.
        .route(
            "/tests/{id}/evidence",
            post(evidence::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}", get(evidence::get))
        .route("/evidence/{id}/download", get(evidence::download))
        .route("/metrics/summary", get(metrics::summary))
        .route("/metrics/by-tactic", get(metrics::by_tactic))
        .route("/metrics/test-pipeline", get(metrics::test_pipeline))
        .route("/metrics/team-activity", get(metrics::team_activity))
        .route("/metrics/validation-rate", get(metrics::validation_rate))
        .route("/metrics/recent-tests", get(metrics::recent_tests))
        .route("/metrics/coverage-history", get(metrics::coverage_history))
        .route("/reports/coverage-summary", get(reports::coverage_summary))
        .route("/reports/coverage-csv", get(reports::coverage_csv))
        .route("/reports/detection-rules", get(reports::detection_rules))
        .route("/reports/test-results", get(reports::test_results))
        .route(
            "/reports/remediation-status",
            get(reports::remediation_status),
        )
        .route(
            "/reports/navigator-layer",
            get(reports::export_layer)
                .post(reports::import_layer)
                .layer(DefaultBodyLimit::max(LAYER_LIMIT)),
        )
        .route("/technique-sets", get(reports::list_sets))
        .route(
            "/technique-sets/{key}",
            get(reports::get_set).delete(reports::delete_set),
        )
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("Method not allowed on this endpoint".into())
        })
        .fallback(|| async { AppError::NotFound("No such API endpoint".into()) })
}
