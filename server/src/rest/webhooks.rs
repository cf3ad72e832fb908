//! `/api/v1/webhooks`: admins register receivers, send them a test ping and read their
//! delivery log. Secrets go in and never come out.
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::webhooks::{
    CreateWebhookRequest, DeliveryDto, DeliveryQuery, UpdateWebhookRequest, WebhookDto,
};
use app::error::AppError;
use app::server::platform::state::AppState;
use app::server::webhooks;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WebhookDto>>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(webhooks::list(&state.db).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookDto>), AppError> {
    let user = caller.require(Permission::ManageSystem)?;
    let hook = webhooks::create(&state.db, user, &caller.actor(), request).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<WebhookDto>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(webhooks::get(&state.db, id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookDto>, AppError> {
    let user = caller.require(Permission::ManageSystem)?;
    Ok(Json(
        webhooks::update(&state.db, user, &caller.actor(), id, request).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    let user = caller.require(Permission::ManageSystem)?;
    webhooks::delete(&state.db, user, &caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn ping(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<DeliveryDto>), AppError> {
    let user = caller.require(Permission::ManageSystem)?;
    let delivery = webhooks::ping(&state.db, user, &caller.actor(), id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<Page<DeliveryDto>>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(webhooks::deliveries(&state.db, id, &query).await?))
}
