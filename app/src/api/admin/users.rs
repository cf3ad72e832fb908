use crate::dto::Page;
use crate::dto::admin::users::UserDto;
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "list_users")]
pub async fn list_users(search: Option<String>) -> Result<Page<UserDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::admin::users::UserListQuery;
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageUsers)?;
            let query = UserListQuery {
                search,
                limit: Some(crate::dto::MAX_PAGE_SIZE),
                ..Default::default()
            };
            users::list(&ctx.state.db, &query).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_user")]
pub async fn get_user(id: Uuid) -> Result<UserDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageUsers)?;
            users::to_dto(&users::find(&ctx.state.db, id).await?)
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_user")]
pub async fn create_user(
    username: String,
    display_name: String,
    email: String,
    role: String,
    #[server(default)] password: String,
    /// The checkbox: "on" when ticked.
    #[server(default)]
    service_account: Option<String>,
) -> Result<UserDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::admin::users::CreateUserRequest;
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageUsers)?;
            let request = CreateUserRequest {
                username,
                password,
                role,
                display_name: Some(display_name),
                email: Some(email),
                service_account: service_account.is_some(),
            };
            users::create(&ctx.state.db, &ctx.actor(), request).await
        }
        .await,
    )
}

/// `status` is "active" or "inactive"; an empty `password` keeps the current one.
#[server(prefix = "/api/fn", endpoint = "update_user")]
pub async fn update_user(
    id: Uuid,
    display_name: String,
    email: String,
    role: String,
    status: String,
    password: String,
) -> Result<UserDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::admin::users::UpdateUserRequest;
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageUsers)?;
            let is_active = match status.as_str() {
                "active" => true,
                "inactive" => false,
                _ => return Err(AppError::field("status", "Choose active or inactive")),
            };
            let request = UpdateUserRequest {
                display_name: Some(display_name),
                email: Some(email),
                role: Some(role),
                is_active: Some(is_active),
                password: Some(password).filter(|p| !p.is_empty()),
            };
            users::update(&ctx.state.db, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// Active colleagues, for assigning tests and remediation steps.
#[server(prefix = "/api/fn", endpoint = "colleagues")]
pub async fn colleagues() -> Result<Vec<crate::dto::admin::users::Colleague>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            users::colleagues(&ctx.state.db).await
        }
        .await,
    )
}
