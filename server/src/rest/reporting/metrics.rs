//! `/api/v1/metrics/*`: the dashboard's figures, for anyone who may read data. Each is cached
//! behind the versions of what it is computed from, with an `ETag` (`rest::cached`).
use crate::rest::cached::{self, Cached};
use crate::rest::extract::{ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::reporting::metrics::MetricsQuery;
use app::dto::reporting::metrics::{
    CoveragePoint, MetricsSummary, TacticMetrics, TeamActivity, TestPipeline, ValidationRate,
};
use app::dto::workflow::TestSummary;
use app::error::AppError;
use app::server::platform::read_cache::answers;
use app::server::platform::state::AppState;
use app::server::reporting::metrics;
use axum::extract::State;
use http::HeaderMap;

pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<MetricsSummary>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = &state.db;
    cached::json(
        &state,
        &headers,
        answers::METRICS_SUMMARY,
        &query,
        || async { metrics::summary(db, &metrics::scope(db, &query).await?).await },
    )
    .await
}

pub async fn by_tactic(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<Vec<TacticMetrics>>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = &state.db;
    cached::json(
        &state,
        &headers,
        answers::METRICS_BY_TACTIC,
        &query,
        || async { metrics::by_tactic(db, &metrics::scope(db, &query).await?).await },
    )
    .await
}

pub async fn test_pipeline(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<TestPipeline>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = &state.db;
    cached::json(
        &state,
        &headers,
        answers::METRICS_PIPELINE,
        &query,
        || async { metrics::pipeline(db, &metrics::scope(db, &query).await?).await },
    )
    .await
}

pub async fn team_activity(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<TeamActivity>, AppError> {
    caller.require(Permission::ViewData)?;
    cached::json(&state, &headers, answers::METRICS_ACTIVITY, &query, || {
        metrics::team_activity(&state.db, &query)
    })
    .await
}

pub async fn validation_rate(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<ValidationRate>, AppError> {
    caller.require(Permission::ViewData)?;
    cached::json(
        &state,
        &headers,
        answers::METRICS_VALIDATION,
        &query,
        || metrics::validation_rate(&state.db, &query),
    )
    .await
}

pub async fn recent_tests(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<Vec<TestSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = &state.db;
    cached::json(
        &state,
        &headers,
        answers::METRICS_RECENT,
        &query,
        || async { metrics::recent_tests(db, &metrics::scope(db, &query).await?).await },
    )
    .await
}

pub async fn coverage_history(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Cached<Vec<CoveragePoint>>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = &state.db;
    cached::json(
        &state,
        &headers,
        answers::METRICS_HISTORY,
        &query,
        || async { metrics::coverage_history(db, &metrics::scope(db, &query).await?).await },
    )
    .await
}
