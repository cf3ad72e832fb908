//! `/api/v1/detection-rules`: Sigma, Elastic and custom rules. Everyone signed in reads; blue
//! leads and admins write custom rules and the local fields of any rule.
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::detection::{RuleDetail, RuleQuery, RuleRequest, RuleSummary};
use app::error::AppError;
use app::server::detection::rules;
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RuleQuery>,
) -> Result<Json<Page<RuleSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(rules::list(&state.db, &query).await?))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<RuleDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(rules::get(&state.db, id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<RuleRequest>,
) -> Result<(StatusCode, Json<RuleDetail>), AppError> {
    caller.require(Permission::ManageDetectionRules)?;
    let rule = rules::create(&state.db, &caller.actor(), &request).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RuleRequest>,
) -> Result<Json<RuleDetail>, AppError> {
    caller.require(Permission::ManageDetectionRules)?;
    Ok(Json(
        rules::update(&state.db, &caller.actor(), id, &request).await?,
    ))
}
