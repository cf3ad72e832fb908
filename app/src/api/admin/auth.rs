use crate::dto::admin::auth::UserProfile;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<UserProfile, AppError> {
    use crate::dto::admin::auth::LoginRequest;
    use crate::server::admin::sessions;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let outcome =
                sessions::login(&ctx.state, &ctx.meta, &LoginRequest { username, password })
                    .await?;
            set_cookie(crate::server::platform::cookies::session_cookie(
                &outcome.token.access_token,
                ctx.state.auth.token_ttl.as_secs(),
                ctx.state.auth.cookie_secure,
            ));
            if crate::api::is_plain_form_post() {
                leptos_axum::redirect(&crate::api::safe_next(next.as_deref()));
            }
            Ok(outcome.profile)
        }
        .await,
    )
}

/// Signs out; the answer is where the browser goes next: the identity provider's sign-out
/// when the session came from it and it offers one (RP-initiated logout), else `/login`.
#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<String, AppError> {
    use crate::server::admin::{sessions, sso};
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let mut next = "/login".to_owned();
            if let Some(user) = &ctx.auth.0 {
                sessions::logout(&ctx.state, user, &ctx.meta).await?;
                if user.via_sso
                    && let Some(url) = sso::logout_url(&ctx.state).await
                {
                    next = url;
                }
            }
            set_cookie(crate::server::platform::cookies::clear_session_cookie(
                ctx.state.auth.cookie_secure,
            ));
            if crate::api::is_plain_form_post() {
                leptos_axum::redirect("/login");
            }
            Ok(next)
        }
        .await,
    )
}

/// How one may sign in here (for the login page).
#[server(prefix = "/api/fn", endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<crate::dto::admin::auth::SignInOptions, AppError> {
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            Ok(crate::server::admin::sso::sign_in_options(&ctx.state))
        }
        .await,
    )
}

/// The signed-in user, or `None` for an anonymous visitor.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserProfile>, AppError> {
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            match &ctx.auth.0 {
                Some(user) => Ok(Some(users::to_profile(
                    &users::find(&ctx.state.db, user.id).await?,
                )?)),
                None => Ok(None),
            }
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::admin::users;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ManageOwnAccount)?;
            users::change_own_password(
                &ctx.state.db,
                &ctx.state.login_limiter,
                &ctx.actor(),
                user.id,
                &current_password,
                &new_password,
            )
            .await?;
            // The change signs out every older token, including this browser's: hand it a new one.
            let kind = if user.via_sso {
                crate::server::admin::tokens::SessionKind::SingleSignOn
            } else {
                crate::server::admin::tokens::SessionKind::Password
            };
            let (token, _) = crate::server::admin::tokens::issue(&ctx.state.auth, user.id, kind)?;
            crate::server::admin::tokens::revoke(
                &ctx.state.db,
                user.id,
                &user.jti,
                user.token_expires_at,
            )
            .await?;
            set_cookie(crate::server::platform::cookies::session_cookie(
                &token,
                ctx.state.auth.token_ttl.as_secs(),
                ctx.state.auth.cookie_secure,
            ));
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: String) {
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// Whose tokens a call is about: the caller's own (`None`), or, for an admin, a service
/// account's.
#[cfg(feature = "ssr")]
async fn token_owner(
    ctx: &crate::server::platform::context::ServerFnContext,
    owner: Option<uuid::Uuid>,
) -> Result<crate::server::admin::api_tokens::TokenOwner, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::admin::api_tokens;
    match owner {
        None => {
            let user = ctx.auth.require(Permission::ManageOwnAccount)?;
            api_tokens::own(&ctx.state.db, user).await
        }
        Some(id) => {
            ctx.auth.require(Permission::ManageUsers)?;
            api_tokens::service_account(&ctx.state.db, id).await
        }
    }
}

/// Active API tokens: the signed-in user's, or a service account's (`owner`, admins).
#[server(prefix = "/api/fn", endpoint = "list_api_tokens")]
pub async fn list_api_tokens(
    owner: Option<uuid::Uuid>,
) -> Result<Vec<crate::dto::admin::auth::ApiTokenDto>, AppError> {
    use crate::server::admin::api_tokens;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let owner = token_owner(&ctx, owner).await?;
            api_tokens::list(&ctx.state.db, owner.id).await
        }
        .await,
    )
}

/// A new API token (the form's `role` blank means the user's own); its secret comes back once.
#[server(prefix = "/api/fn", endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    expires_in_days: Option<String>,
    role: Option<String>,
    owner: Option<uuid::Uuid>,
) -> Result<crate::dto::admin::auth::CreatedToken, AppError> {
    use crate::domain::rbac::Role;
    use crate::dto::admin::auth::CreateTokenRequest;
    use crate::server::admin::api_tokens;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = token_owner(&ctx, owner).await?;
            let expires_in_days =
                match expires_in_days.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(days) => Some(days.parse::<u32>().map_err(|_| {
                        AppError::field("expires_in_days", "A whole number of days")
                    })?),
                };
            let role = match role.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(role) => Some(
                    role.parse::<Role>()
                        .map_err(|e| AppError::field("role", e.to_string()))?,
                ),
            };
            api_tokens::create(
                &ctx.state.db,
                user,
                &ctx.actor(),
                CreateTokenRequest {
                    name,
                    expires_in_days,
                    role,
                },
                ctx.state.auth.api_token_max_days,
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: uuid::Uuid, owner: Option<uuid::Uuid>) -> Result<(), AppError> {
    use crate::server::admin::api_tokens;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let owner = token_owner(&ctx, owner).await?;
            api_tokens::revoke(&ctx.state.db, owner.id, &ctx.actor(), id).await
        }
        .await,
    )
}
