//! `/api/v1/metrics/*`: the dashboard's figures, for anyone who may read data.
use crate::rest::extract::{ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::reporting::metrics::{
    CoveragePoint, MetricsQuery, MetricsSummary, TacticMetrics, TeamActivity, TestPipeline,
    ValidationRate,
};
use app::dto::workflow::TestSummary;
use app::error::AppError;
use app::server::platform::state::AppState;
use app::server::reporting::metrics;
use axum::Json;
use axum::extract::State;

pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<MetricsSummary>, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = metrics::scope(&state.db, &query).await?;
    Ok(Json(metrics::summary(&state.db, &scope).await?))
}

pub async fn by_tactic(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<Vec<TacticMetrics>>, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = metrics::scope(&state.db, &query).await?;
    Ok(Json(metrics::by_tactic(&state.db, &scope).await?))
}

pub async fn test_pipeline(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<TestPipeline>, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = metrics::scope(&state.db, &query).await?;
    Ok(Json(metrics::pipeline(&state.db, &scope).await?))
}

pub async fn team_activity(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<TeamActivity>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(metrics::team_activity(&state.db, &query).await?))
}

pub async fn validation_rate(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<ValidationRate>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(metrics::validation_rate(&state.db, &query).await?))
}

pub async fn recent_tests(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<Vec<TestSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = metrics::scope(&state.db, &query).await?;
    Ok(Json(metrics::recent_tests(&state.db, &scope).await?))
}

pub async fn coverage_history(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<Vec<CoveragePoint>>, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = metrics::scope(&state.db, &query).await?;
    Ok(Json(metrics::coverage_history(&state.db, &scope).await?))
}
