//! `/api/v1/test-templates`: the test template catalog.
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::catalog::{
    CreateTemplateRequest, GtfobinsFunctionMapping, GtfobinsMappingRequest, TemplateDetail,
    TemplateQuery, TemplateStats, TemplateSummary, UpdateTemplateRequest,
};
use app::error::AppError;
use app::server::catalog::{gtfobins, templates};
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TemplateQuery>,
) -> Result<Json<Page<TemplateSummary>>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    let admin = user.role.can(Permission::ManageTemplates);
    Ok(Json(templates::list(&state.db, &query, admin).await?))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TemplateDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    let admin = user.role.can(Permission::ManageTemplates);
    Ok(Json(templates::get(&state.db, id, admin).await?))
}

/// Soft delete: the template is deactivated, never removed.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TemplateDetail>, AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok(Json(
        templates::set_active(&state.db, &caller.actor(), id, Some(false)).await?,
    ))
}

pub async fn toggle_active(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TemplateDetail>, AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok(Json(
        templates::set_active(&state.db, &caller.actor(), id, None).await?,
    ))
}

pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TemplateStats>, AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok(Json(templates::stats(&state.db).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTemplateRequest>,
) -> Result<(StatusCode, Json<TemplateDetail>), AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok((
        StatusCode::CREATED,
        Json(templates::create(&state.db, &caller.actor(), body).await?),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateTemplateRequest>,
) -> Result<Json<TemplateDetail>, AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok(Json(
        templates::update(&state.db, &caller.actor(), id, body).await?,
    ))
}

/// `GET /system/gtfobins-mapping`: each GTFOBins function's techniques, the table's and the
/// installation's own.
pub async fn gtfobins_mapping(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<GtfobinsFunctionMapping>>, AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok(Json(gtfobins::mapping(&state.db).await?))
}

/// `PUT /system/gtfobins-mapping/{function}`: the installation's techniques for a function
/// (an empty list restores the table's); the next GTFOBins import applies them.
pub async fn set_gtfobins_mapping(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(function): ApiPath<String>,
    ApiJson(body): ApiJson<GtfobinsMappingRequest>,
) -> Result<Json<GtfobinsFunctionMapping>, AppError> {
    caller.require(Permission::ManageTemplates)?;
    Ok(Json(
        gtfobins::set(&state.db, &caller.actor(), &function, body).await?,
    ))
}
