//! `/api/v1/notifications`: each user's own notifications, never anyone else's.
use super::extract::{ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::notifications::{NotificationDto, NotificationQuery, UnreadCount};
use app::error::AppError;
use app::server::platform::notifications;
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<Page<NotificationDto>>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(notifications::list(&state.db, user.id, &query).await?))
}

pub async fn unread_count(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<UnreadCount>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(notifications::unread_count(&state.db, user.id).await?))
}

pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<NotificationDto>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        notifications::mark_read(&state.db, user.id, id).await?,
    ))
}

pub async fn mark_all_read(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    let marked = notifications::mark_all_read(&state.db, user.id).await?;
    Ok(Json(serde_json::json!({ "marked_read": marked })))
}
