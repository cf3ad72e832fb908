//! `/api/v1/users`: administration of accounts.
use crate::rest::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::admin::auth::{ApiTokenDto, CreateTokenRequest, CreatedToken};
use app::dto::admin::users::{CreateUserRequest, UpdateUserRequest, UserDto, UserListQuery};
use app::error::AppError;
use app::server::admin::{api_tokens, users};
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

/// `GET /users/{id}/tokens`: a service account's active API tokens.
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ApiTokenDto>>, AppError> {
    caller.require(Permission::ManageUsers)?;
    let owner = api_tokens::service_account(&state.db, id).await?;
    Ok(Json(api_tokens::list(&state.db, owner.id).await?))
}

/// `POST /users/{id}/tokens`: a token for a service account; its secret is shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    caller.require(Permission::ManageUsers)?;
    let owner = api_tokens::service_account(&state.db, id).await?;
    let created = api_tokens::create(
        &state.db,
        owner,
        &caller.actor(),
        body,
        state.auth.api_token_max_days,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /users/{id}/tokens/{token_id}`: revokes a service account's token at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, token_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, AppError> {
    caller.require(Permission::ManageUsers)?;
    let owner = api_tokens::service_account(&state.db, id).await?;
    api_tokens::revoke(&state.db, owner.id, &caller.actor(), token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
