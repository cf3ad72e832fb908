//! Notifications: written by other services inside their own transactions, read only by their
//! recipient.
use crate::domain::rbac::Role;
use crate::dto::Page;
use crate::dto::notifications::{NotificationDto, NotificationQuery, UnreadCount};
use crate::error::{AppError, AppResult};
use crate::server::entities::{notification, user};
use crate::server::platform::pagination::page_bounds;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// The page size the spec gives for the notification list.
pub const DEFAULT_LIMIT: u64 = 20;

pub struct NewNotification<'a> {
    pub kind: &'a str,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
}

/// Active users holding any of `roles`.
pub async fn users_with_roles(conn: &impl ConnectionTrait, roles: &[Role]) -> AppResult<Vec<Uuid>> {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.is_in(names))
        .filter(user::Column::IsActive.eq(true))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?)
}

pub async fn notify(
    conn: &impl ConnectionTrait,
    recipients: &[Uuid],
    note: NewNotification<'_>,
) -> AppResult<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = recipients.iter().map(|user_id| notification::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(*user_id),
        kind: Set(note.kind.to_owned()),
        title: Set(note.title.chars().take(256).collect()),
        body: Set(note.body.clone()),
        link: Set(note.link.clone()),
        read_at: Set(None),
        created_at: Set(now),
    });
    notification::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

fn to_dto(n: notification::Model) -> NotificationDto {
    NotificationDto {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        link: n.link,
        is_read: n.read_at.is_some(),
        read_at: n.read_at,
        created_at: n.created_at,
    }
}

pub async fn list(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    query: &NotificationQuery,
) -> AppResult<Page<NotificationDto>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_LIMIT)?;
    let mut select = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if query.unread_only == Some(true) {
        select = select.filter(notification::Column::ReadAt.is_null());
    }
    let total = select.clone().count(conn).await?;
    let items = select
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?
        .into_iter()
        .map(to_dto)
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

pub async fn unread_count(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<UnreadCount> {
    let unread = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(conn)
        .await?;
    Ok(UnreadCount { unread })
}

/// Someone else's notification is reported as missing, not forbidden: its existence is private.
pub async fn mark_read(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<NotificationDto> {
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("Notification not found".into()))?;
    if found.read_at.is_some() {
        return Ok(to_dto(found));
    }
    let now = Utc::now();
    notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(notification::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(to_dto(notification::Model {
        read_at: Some(now),
        ..found
    }))
}

pub async fn mark_all_read(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<u64> {
    let result = notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes read notifications created before `cutoff`; unread ones are kept whatever their age.
pub async fn delete_read_before(
    conn: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> AppResult<u64> {
    let result = notification::Entity::delete_many()
        .filter(notification::Column::ReadAt.is_not_null())
        .filter(notification::Column::CreatedAt.lt(cutoff))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
