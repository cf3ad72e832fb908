//! The REST API under `/api/v1`: each handler checks the caller, calls a service and maps the
//! result. The rules live in the services.
mod attack;
mod audit;
mod auth;
pub mod extract;
mod users;

use app::error::AppError;
use app::server::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};

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
        .route("/techniques", get(attack::techniques))
        .route("/techniques/{mitre_id}", get(attack::technique))
        .route("/techniques/{mitre_id}/review", patch(attack::review))
        .route("/tactics", get(attack::tactics))
        .route("/threat-actors", get(attack::threat_actors))
        .route("/threat-actors/{id}", get(attack::threat_actor))
        .route(
            "/system/import-attack-bundle",
            post(attack::import_attack_bundle).layer(DefaultBodyLimit::max(max_import_bytes)),
        )
        .route("/system/sync-runs", get(attack::sync_runs))
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("Method not allowed on this endpoint".into())
        })
        .fallback(|| async { AppError::NotFound("No such API endpoint".into()) })
}
