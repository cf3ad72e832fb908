//! `/api/v1/intel`: intel items (everyone signed in reads, leads and admins triage) and the
//! feeds (admins manage them).
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::intel::{
    CreateFeedRequest, IntelFeedDto, IntelItemDto, IntelQuery, SeedFeed, UpdateFeedRequest,
    UpdateIntelRequest,
};
use app::error::AppError;
use app::server::intel::{feeds, items};
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<IntelQuery>,
) -> Result<Json<Page<IntelItemDto>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(items::list(&state.db, &query).await?))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<IntelItemDto>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(items::get(&state.db, id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateIntelRequest>,
) -> Result<Json<IntelItemDto>, AppError> {
    caller.require(Permission::TriageIntel)?;
    Ok(Json(
        items::update(&state.db, &caller.actor(), id, &request).await?,
    ))
}

pub async fn feeds(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<IntelFeedDto>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(feeds::list(&state.db).await?))
}

pub async fn feed(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<IntelFeedDto>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(feeds::get(&state.db, id).await?))
}

pub async fn seeds(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<SeedFeed>>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(feeds::seeds(&state.db).await?))
}

pub async fn create_feed(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateFeedRequest>,
) -> Result<(StatusCode, Json<IntelFeedDto>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let feed = feeds::create(&state.db, &caller.actor(), &request).await?;
    Ok((StatusCode::CREATED, Json(feed)))
}

pub async fn update_feed(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateFeedRequest>,
) -> Result<Json<IntelFeedDto>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(
        feeds::update(&state.db, &caller.actor(), id, &request).await?,
    ))
}

pub async fn delete_feed(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    caller.require(Permission::ManageSystem)?;
    feeds::delete(&state.db, &caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
