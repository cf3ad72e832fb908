//! `/api/v1/audit-logs`: reading the audit trail.
use crate::rest::extract::{ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::admin::audit::{AuditEntryDto, AuditQuery};
use app::error::AppError;
use app::server::platform::audit;
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntryDto>>, AppError> {
    caller.require(Permission::ViewAuditLog)?;
    Ok(Json(audit::list(&state.db, &query).await?))
}

pub async fn actions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<String>>, AppError> {
    caller.require(Permission::ViewAuditLog)?;
    Ok(Json(audit::actions(&state.db).await?))
}

pub async fn entity_types(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<String>>, AppError> {
    caller.require(Permission::ViewAuditLog)?;
    Ok(Json(audit::entity_types(&state.db).await?))
}
