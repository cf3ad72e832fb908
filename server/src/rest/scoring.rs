//! `/api/v1/scoring/*`: everyone signed in reads scores; admins change the configuration
//! (audited, versioned) and preview a change. `/api/v1/data-sources`: the data-component
//! inventory; the blue team marks what it collects.
use super::cached::{self, Cached};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::domain::scoring::ScoringConfig;
use app::dto::Page;
use app::dto::scoring::{
    DataComponentDto, DataComponentUpdate, DataSourceQuery, ScoreQuery, ScoringConfigState,
    ScoringConfigUpdate, ScoringPreview,
};
use app::dto::scoring::{DataSourceInventory, ScoringSummary, TechniqueScore};
use app::error::AppError;
use app::server::knowledge::data_components;
use app::server::platform::read_cache::answers;
use app::server::platform::state::AppState;
use app::server::scoring::{config, reads};
use axum::Json;
use axum::extract::State;
use http::HeaderMap;

pub async fn get_config(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ScoringConfigState>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(config::state(&state.db).await?))
}

pub async fn put_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(update): ApiJson<ScoringConfigUpdate>,
) -> Result<Json<ScoringConfigState>, AppError> {
    caller.require(Permission::ManageScoring)?;
    Ok(Json(
        config::update(&state.db, &caller.actor(), update).await?,
    ))
}

/// `POST /scoring/config/restore/{version}`: a saved version becomes the newest.
pub async fn restore_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(version): ApiPath<i32>,
) -> Result<Json<ScoringConfigState>, AppError> {
    caller.require(Permission::ManageScoring)?;
    Ok(Json(
        config::restore(&state.db, &caller.actor(), version).await?,
    ))
}

/// `POST /scoring/preview`: the summary under an unsaved configuration, beside today's.
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(config): ApiJson<ScoringConfig>,
) -> Result<Json<ScoringPreview>, AppError> {
    caller.require(Permission::ManageScoring)?;
    Ok(Json(reads::preview(&state.db, config).await?))
}

pub async fn techniques(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ScoreQuery>,
) -> Result<Cached<Page<TechniqueScore>>, AppError> {
    caller.require(Permission::ViewData)?;
    cached::json(
        &state,
        &headers,
        answers::SCORING_TECHNIQUES,
        &query,
        || reads::list(&state.db, &query),
    )
    .await
}

pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Cached<ScoringSummary>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = state.db.clone();
    cached::json(
        &state,
        &headers,
        answers::SCORING_SUMMARY,
        &(),
        || async move { reads::summary(&db).await },
    )
    .await
}

pub async fn data_sources(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<DataSourceQuery>,
) -> Result<Cached<DataSourceInventory>, AppError> {
    caller.require(Permission::ViewData)?;
    cached::json(&state, &headers, answers::DATA_SOURCES, &query, || {
        data_components::list(&state.db, &query)
    })
    .await
}

pub async fn update_data_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<DataComponentUpdate>,
) -> Result<Json<DataComponentDto>, AppError> {
    caller.require(Permission::ManageDataSources)?;
    Ok(Json(
        data_components::update(&state.db, &caller.actor(), &id, change).await?,
    ))
}
