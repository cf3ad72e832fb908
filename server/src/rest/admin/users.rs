//! `/api/v1/users`: administration of accounts.
use crate::rest::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::admin::users::{CreateUserRequest, UpdateUserRequest, UserDto, UserListQuery};
use app::error::AppError;
use app::server::admin::users;
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> Result<Json<Page<UserDto>>, AppError> {
    caller.require(Permission::ManageUsers)?;
    Ok(Json(users::list(&state.db, &query).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserDto>), AppError> {
    caller.require(Permission::ManageUsers)?;
    Ok((
        StatusCode::CREATED,
        Json(users::create(&state.db, &caller.actor(), body).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserDto>, AppError> {
    caller.require(Permission::ManageUsers)?;
    Ok(Json(users::to_dto(&users::find(&state.db, id).await?)?))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserDto>, AppError> {
    caller.require(Permission::ManageUsers)?;
    Ok(Json(
        users::update(&state.db, &caller.actor(), id, body).await?,
    ))
}
