//! The notification bell: each user's own notifications and their read state.
use crate::dto::Page;
use crate::dto::notifications::{NotificationDto, UnreadCount};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

/// How many the bell's list shows.
pub const BELL_LIMIT: u64 = 10;

#[server(prefix = "/api/fn", endpoint = "unread_notifications")]
pub async fn unread_notifications() -> Result<UnreadCount, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::notifications;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            notifications::unread_count(&ctx.state.db, user.id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "recent_notifications")]
pub async fn recent_notifications() -> Result<Page<NotificationDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::notifications::NotificationQuery;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::notifications;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let query = NotificationQuery {
                limit: Some(BELL_LIMIT),
                ..Default::default()
            };
            notifications::list(&ctx.state.db, user.id, &query).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "mark_notification_read")]
pub async fn mark_notification_read(id: Uuid) -> Result<NotificationDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::notifications;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            notifications::mark_read(&ctx.state.db, user.id, id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "mark_all_notifications_read")]
pub async fn mark_all_notifications_read() -> Result<u64, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::notifications;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            notifications::mark_all_read(&ctx.state.db, user.id).await
        }
        .await,
    )
}
