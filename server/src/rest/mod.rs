//! The REST API under `/api/v1`: each handler checks the caller, calls a service and maps the
//! result. The rules live in the services.
mod audit;
mod auth;
pub mod extract;
mod users;

use app::error::AppError;
use app::server::state::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/me", get(auth::me))
        .route("/auth/logout", post(auth::logout))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::update))
        .route("/audit-logs", get(audit::list))
        .route("/audit-logs/actions", get(audit::actions))
        .route("/audit-logs/entity-types", get(audit::entity_types))
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("Method not allowed on this endpoint".into())
        })
        .fallback(|| async { AppError::NotFound("No such API endpoint".into()) })
}
