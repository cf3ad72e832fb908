//! User accounts: creation, updates (with the last-admin rule), listing, bootstrap.
use crate::domain::audit::AuditAction;
use crate::domain::rbac::Role;
use crate::domain::validation::{self, normalize_username};
use crate::dto::DEFAULT_PAGE_SIZE;
use crate::dto::Page;
use crate::dto::admin::auth::UserProfile;
use crate::dto::admin::users::{
    Colleague, CreateUserRequest, SignInMethod, UpdateUserRequest, UserDto, UserListQuery,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::admin::passwords;
use crate::server::entities::user;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use crate::server::platform::pagination::page_bounds;
use crate::server::platform::rate_limit::RateLimiter;
use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

pub const ENTITY: &str = "user";

pub fn role_of(model: &user::Model) -> AppResult<Role> {
    model.role.parse().map_err(|_| {
        AppError::internal(format!("user {} has unknown role {}", model.id, model.role))
    })
}

/// How an account signs in: the provider when linked, else its password, else only tokens.
pub fn sign_in_method(model: &user::Model) -> SignInMethod {
    if model.oidc_subject.is_some() {
        SignInMethod::SingleSignOn
    } else if model.password_hash.is_empty() {
        SignInMethod::ServiceAccount
    } else {
        SignInMethod::Password
    }
}

pub fn to_dto(model: &user::Model) -> AppResult<UserDto> {
    Ok(UserDto {
        id: model.id,
        username: model.username.clone(),
        display_name: model.display_name.clone(),
        email: model.email.clone(),
        role: role_of(model)?,
        is_active: model.is_active,
        sign_in: sign_in_method(model),
        last_login_at: model.last_login_at,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

pub fn to_profile(model: &user::Model) -> AppResult<UserProfile> {
    Ok(UserProfile {
        id: model.id,
        username: model.username.clone(),
        display_name: model.display_name.clone(),
        email: model.email.clone(),
        role: role_of(model)?,
        is_active: model.is_active,
        last_login_at: model.last_login_at,
        created_at: model.created_at,
    })
}

fn parse_role(raw: &str, errors: &mut FieldErrors) -> Option<Role> {
    match raw.trim().parse::<Role>() {
        Ok(role) => Some(role),
        Err(e) => {
            errors.insert("role".into(), e.to_string());
            None
        }
    }
}

/// `Some("")` clears the email; `Some(x)` must be a valid address.
fn clean_email(raw: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let email = raw.map(str::trim).filter(|e| !e.is_empty())?;
    validation::check_email(email, errors);
    Some(email.to_lowercase())
}

fn duplicate_username(username: &str) -> AppError {
    AppError::Conflict(format!("A user named '{username}' already exists"))
}

fn map_unique(err: DbErr, username: &str) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => duplicate_username(username),
        _ => err.into(),
    }
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("User {id} not found")))
}

pub async fn find_by_username(
    conn: &impl ConnectionTrait,
    username: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(normalize_username(username)))
        .one(conn)
        .await?)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    req: CreateUserRequest,
) -> AppResult<UserDto> {
    let username = normalize_username(&req.username);
    let mut errors = FieldErrors::new();
    validation::check_username(&username, &mut errors);
    if !req.service_account {
        validation::check_password("password", &req.password, &mut errors);
    } else if !req.password.is_empty() {
        errors.insert(
            "password".into(),
            "A service account has no password: leave it out".into(),
        );
    }
    let role = parse_role(&req.role, &mut errors);
    let display_name = req
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&username)
        .to_owned();
    validation::check_display_name(&display_name, &mut errors);
    let email = clean_email(req.email.as_deref(), &mut errors);
    AppError::from_fields(errors)?;
    let role = role.ok_or_else(|| AppError::field("role", "Role is required"))?;
    let password_hash = if req.service_account {
        String::new()
    } else {
        passwords::hash_blocking(req.password.clone()).await?
    };

    let txn = begin_write(db).await?;
    if find_by_username(&txn, &username).await?.is_some() {
        return Err(duplicate_username(&username));
    }
    let now = Utc::now();
    let model = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.clone()),
        display_name: Set(display_name),
        email: Set(email),
        role: Set(role.as_str().to_owned()),
        is_active: Set(true),
        password_hash: Set(password_hash),
        password_changed_at: Set(now),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        oidc_issuer: Set(None),
        oidc_subject: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|e| map_unique(e, &username))?;
    let dto = to_dto(&model)?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::UserCreate, ENTITY, model.id).after(&dto),
    )
    .await?;
    txn.commit().await?;
    Ok(dto)
}

/// Active admins other than `except`, locked on PostgreSQL so two concurrent demotions cannot
/// both see the other admin and leave none.
pub async fn other_active_admins(conn: &impl ConnectionTrait, except: Uuid) -> AppResult<u64> {
    let mut select = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::Id.ne(except));
    if conn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let ids: Vec<Uuid> = select.into_tuple().all(conn).await?;
    Ok(ids.len() as u64)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    req: UpdateUserRequest,
) -> AppResult<UserDto> {
    let mut errors = FieldErrors::new();
    let role = req.role.as_deref().and_then(|r| parse_role(r, &mut errors));
    let display_name = req
        .display_name
        .as_deref()
        .map(str::trim)
        .map(str::to_owned);
    if let Some(name) = &display_name {
        validation::check_display_name(name, &mut errors);
    }
    let email = req
        .email
        .as_deref()
        .map(|raw| clean_email(Some(raw), &mut errors));
    if let Some(password) = &req.password {
        validation::check_password("password", password, &mut errors);
    }
    AppError::from_fields(errors)?;
    let password_hash = match req.password.clone() {
        Some(password) => Some(passwords::hash_blocking(password).await?),
        None => None,
    };

    let txn = begin_write(db).await?;
    let current = if txn.get_database_backend() == DbBackend::Postgres {
        user::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
    } else {
        user::Entity::find_by_id(id).one(&txn).await?
    }
    .ok_or_else(|| AppError::NotFound(format!("User {id} not found")))?;
    let before = to_dto(&current)?;

    let new_role = role.unwrap_or(before.role);
    let new_active = req.is_active.unwrap_or(current.is_active);
    let was_active_admin = before.role == Role::Admin && current.is_active;
    let stays_active_admin = new_role == Role::Admin && new_active;
    if was_active_admin && !stays_active_admin && other_active_admins(&txn, id).await? == 0 {
        return Err(AppError::Conflict(
            "This is the last active admin: promote another admin before demoting or deactivating this one"
                .into(),
        ));
    }

    let now = Utc::now();
    let mut active: user::ActiveModel = current.into();
    if let Some(role) = role {
        active.role = Set(role.as_str().to_owned());
    }
    if let Some(name) = display_name {
        active.display_name = Set(name);
    }
    if let Some(email) = email {
        active.email = Set(email);
    }
    if let Some(is_active) = req.is_active {
        active.is_active = Set(is_active);
    }
    if let Some(hash) = password_hash.clone() {
        active.password_hash = Set(hash);
        // Tokens issued before this moment stop working (see sessions::authenticate_token).
        active.password_changed_at = Set(now);
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    let after = to_dto(&updated)?;
    let mut after_json =
        serde_json::to_value(&after).map_err(|e| AppError::internal(e.to_string()))?;
    if password_hash.is_some()
        && let Some(obj) = after_json.as_object_mut()
    {
        obj.insert("password_reset".into(), serde_json::Value::Bool(true));
    }
    let mut record = AuditRecord::new(AuditAction::UserUpdate, ENTITY, id).before(&before);
    record.after = Some(after_json);
    audit::record(&txn, actor, record).await?;
    txn.commit().await?;
    Ok(after)
}

/// Changes one's own password. Checking the current one is limited like a sign-in
/// (`limiter`, per user), so a stolen session cannot guess it without end.
pub async fn change_own_password(
    db: &DatabaseConnection,
    limiter: &RateLimiter,
    actor: &Actor,
    id: Uuid,
    current_password: &str,
    new_password: &str,
) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    validation::check_password("new_password", new_password, &mut errors);
    if current_password == new_password {
        errors.insert(
            "new_password".into(),
            "Choose a password different from the current one".into(),
        );
    }
    AppError::from_fields(errors)?;
    if current_password.chars().count() > validation::PASSWORD_MAX_LEN {
        return Err(AppError::field(
            "current_password",
            "Current password is incorrect",
        ));
    }
    let key = format!("password|{id}");
    limiter
        .try_acquire(&key)
        .await?
        .map_err(|retry_after| AppError::RateLimited { retry_after })?;
    let user = find(db, id).await?;
    let verified =
        passwords::verify_blocking(current_password.to_owned(), user.password_hash.clone()).await?;
    if !verified {
        return Err(AppError::field(
            "current_password",
            "Current password is incorrect",
        ));
    }
    limiter.reset(&key).await?;
    let hash = passwords::hash_blocking(new_password.to_owned()).await?;
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.password_changed_at = Set(now);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::UserPasswordChange, ENTITY, id)
            .after(serde_json::json!({ "password_changed": true })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Active users by display name, for assignment pickers.
pub async fn colleagues(conn: &impl ConnectionTrait) -> AppResult<Vec<Colleague>> {
    user::Entity::find()
        .filter(user::Column::IsActive.eq(true))
        .order_by_asc(user::Column::DisplayName)
        .all(conn)
        .await?
        .iter()
        .map(|u| {
            Ok(Colleague {
                id: u.id,
                display_name: u.display_name.clone(),
                role: role_of(u)?,
            })
        })
        .collect()
}

pub async fn list(conn: &impl ConnectionTrait, query: &UserListQuery) -> AppResult<Page<UserDto>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let mut condition = Condition::all();
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!("%{}%", search.to_lowercase().replace(['%', '_'], ""));
        condition = condition.add(
            Condition::any()
                .add(user::Column::Username.like(pattern.clone()))
                .add(
                    Expr::expr(Func::lower(Expr::col(user::Column::DisplayName)))
                        .like(pattern.clone()),
                )
                .add(user::Column::Email.like(pattern)),
        );
    }
    if let Some(role) = query
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let role: Role = role
            .parse()
            .map_err(|e: crate::domain::rbac::UnknownRole| AppError::BadRequest(e.to_string()))?;
        condition = condition.add(user::Column::Role.eq(role.as_str()));
    }
    if let Some(is_active) = query.is_active {
        condition = condition.add(user::Column::IsActive.eq(is_active));
    }
    let select = user::Entity::find().filter(condition);
    let total = select.clone().count(conn).await?;
    let items = select
        .order_by_asc(user::Column::Username)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?
        .iter()
        .map(to_dto)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// The first admin, on an empty database. Returns the password when it was generated, so the
/// caller can show it once.
pub async fn bootstrap_admin(
    db: &DatabaseConnection,
    password: Option<String>,
) -> AppResult<Option<String>> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p, false),
        None => (passwords::generate()?, true),
    };
    let request = CreateUserRequest {
        username: "admin".into(),
        password: password.clone(),
        role: Role::Admin.as_str().into(),
        display_name: Some("Administrator".into()),
        email: None,
        service_account: false,
    };
    create(db, &Actor::system("system"), request).await?;
    Ok(generated.then_some(password))
}
