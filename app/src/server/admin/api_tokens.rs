//! Personal access tokens for scripts and CI (`Authorization: Bearer aegis_pat_…`): created
//! by a user for themselves, with a name, an expiry and optionally a lower role; the secret is
//! shown once and only its SHA-256 is kept; revoked at once; every action with one is audited
//! as its user, with the token's name.
use crate::domain::audit::AuditAction;
use crate::domain::rbac::Role;
use crate::dto::admin::auth::{ApiTokenDto, CreateTokenRequest, CreatedToken};
use crate::dto::admin::users::SignInMethod;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::admin::users;
use crate::server::entities::{api_token, user};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use base64::Engine;
use chrono::{Duration, Utc};
use rand::TryRngCore;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What every token starts with: recognisable in a leaked log or a secret scanner.
pub const PREFIX: &str = "aegis_pat_";
pub const NAME_MAX_LEN: usize = 100;
/// Active tokens one user may hold.
pub const PER_USER_MAX: usize = 50;
/// How stale `last_used_at` may get before a use writes it again (one write a minute, not one
/// per request).
const LAST_USE_PRECISION: Duration = Duration::seconds(60);

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn to_dto(model: &api_token::Model) -> ApiTokenDto {
    ApiTokenDto {
        id: model.id,
        name: model.name.clone(),
        role: model.role.as_deref().and_then(|r| r.parse().ok()),
        created_at: model.created_at,
        expires_at: model.expires_at,
        last_used_at: model.last_used_at,
    }
}

/// Whose tokens: the caller's own, or (for an admin) a service account's.
#[derive(Debug, Clone, Copy)]
pub struct TokenOwner {
    pub id: Uuid,
    /// What a new token may do at most: the caller's role (a token's own, when the caller is
    /// one).
    pub role: Role,
    /// Set when the caller is itself a token with a lower role: a token it makes without a
    /// role gets this one, never the user's full role.
    pub cap: Option<Role>,
}

/// The caller, making a token for itself. A service account's tokens are an admin's to make,
/// so one of its tokens cannot mint more.
pub async fn own(conn: &impl ConnectionTrait, user: &CurrentUser) -> AppResult<TokenOwner> {
    let account = users::find(conn, user.id).await?;
    if users::sign_in_method(&account) == SignInMethod::ServiceAccount {
        return Err(AppError::Forbidden(
            "A service account's tokens are created by an admin, on its page".into(),
        ));
    }
    Ok(TokenOwner {
        id: user.id,
        role: user.role,
        cap: user.token_name.is_some().then_some(user.role),
    })
}

/// A service account, whose tokens admins manage: a user with no password and no provider.
pub async fn service_account(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<TokenOwner> {
    let account = users::find(conn, id).await?;
    if users::sign_in_method(&account) != SignInMethod::ServiceAccount {
        return Err(AppError::Conflict(format!(
            "{} is not a service account: people create their own tokens under their profile",
            account.username
        )));
    }
    Ok(TokenOwner {
        id: account.id,
        role: users::role_of(&account)?,
        cap: None,
    })
}

/// The owner's active tokens (unrevoked, unexpired), newest first.
pub async fn list(conn: &impl ConnectionTrait, owner: Uuid) -> AppResult<Vec<ApiTokenDto>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(owner))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(conn)
        .await?
        .iter()
        .map(to_dto)
        .collect())
}

/// A new token for `user`; the answer holds its secret, which is never shown again.
pub async fn create(
    db: &DatabaseConnection,
    user: TokenOwner,
    actor: &Actor,
    request: CreateTokenRequest,
    max_days: u32,
) -> AppResult<CreatedToken> {
    let name = request.name.trim().to_owned();
    let mut errors = FieldErrors::new();
    if name.is_empty() {
        errors.insert("name".into(), "Name the token (what uses it)".into());
    } else if name.chars().count() > NAME_MAX_LEN {
        errors.insert("name".into(), format!("At most {NAME_MAX_LEN} characters"));
    } else if name.chars().any(char::is_control) {
        errors.insert("name".into(), "May not contain control characters".into());
    }
    let days = request.expires_in_days.unwrap_or(max_days);
    if days == 0 || days > max_days {
        errors.insert(
            "expires_in_days".into(),
            format!("Between 1 and {max_days} days"),
        );
    }
    if let Some(role) = request.role
        && !role.within(user.role)
    {
        errors.insert(
            "role".into(),
            format!(
                "A token may not do more than its user: {} is not within {}",
                role.as_str(),
                user.role.as_str()
            ),
        );
    }
    AppError::invalid("Invalid token", errors)?;
    let role = request.role.or(user.cap);

    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| AppError::internal(format!("random: {e}")))?;
    let secret = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let active = list(&txn, user.id).await?.len();
    if active >= PER_USER_MAX {
        return Err(AppError::Conflict(format!(
            "At most {PER_USER_MAX} active tokens; revoke one first"
        )));
    }
    let model = api_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        name: Set(name),
        secret_hash: Set(hash(&secret)),
        role: Set(role.map(|r| r.as_str().to_owned())),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(i64::from(days))),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let details = to_dto(&model);
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::ApiTokenCreate, "api_token", model.id).after(&details),
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedToken {
        token: secret,
        details,
    })
}

/// Revokes one of the owner's tokens; it stops working at once, on every server.
pub async fn revoke(
    db: &DatabaseConnection,
    owner: Uuid,
    actor: &Actor,
    id: Uuid,
) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let found = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::UserId.eq(owner))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such token".into()))?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_token::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::ApiTokenRevoke, "api_token", found.id).after(to_dto(&found)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller behind a token: unrevoked, unexpired, its user active, its role still within
/// the user's (a demoted user's higher-role token stops working).
pub async fn authenticate(db: &DatabaseConnection, secret: &str) -> AppResult<CurrentUser> {
    let invalid = || AppError::Unauthorized("Invalid API token".into());
    if secret.len() > 200 || !secret.starts_with(PREFIX) {
        return Err(invalid());
    }
    let token = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(hash(secret)))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if token.revoked_at.is_some() {
        return Err(AppError::Unauthorized("API token revoked".into()));
    }
    if token.expires_at <= now {
        return Err(AppError::Unauthorized("API token expired".into()));
    }
    let owner: user::Model = users::find(db, token.user_id)
        .await
        .map_err(|_| invalid())?;
    if !owner.is_active {
        return Err(AppError::Unauthorized("Account is deactivated".into()));
    }
    let user_role = users::role_of(&owner)?;
    let role = match token.role.as_deref().map(str::parse::<Role>) {
        None => user_role,
        Some(Ok(role)) if role.within(user_role) => role,
        Some(_) => {
            return Err(AppError::Unauthorized(
                "API token's role is above its user's".into(),
            ));
        }
    };
    if token
        .last_used_at
        .is_none_or(|at| now - at > LAST_USE_PRECISION)
    {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(db)
            .await?;
    }
    Ok(CurrentUser {
        id: owner.id,
        username: owner.username,
        display_name: owner.display_name,
        role,
        jti: format!("pat:{}", token.id),
        token_expires_at: token.expires_at.timestamp(),
        via_cookie: false,
        token_name: Some(token.name),
        via_sso: false,
    })
}

/// Signing out with a token revokes that token.
pub async fn revoke_used(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
) -> AppResult<bool> {
    let Some(id) = user.jti.strip_prefix("pat:").and_then(|id| id.parse().ok()) else {
        return Ok(false);
    };
    revoke(db, user.id, actor, id).await?;
    Ok(true)
}
