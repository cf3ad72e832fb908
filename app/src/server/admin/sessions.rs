//! Logging in and out, and turning a token back into a user on every request.
use crate::domain::audit::AuditAction;
use crate::domain::sso::PasswordSignIn;
use crate::domain::validation;
use crate::dto::admin::auth::{LoginRequest, TokenResponse, UserProfile};
use crate::error::{AppError, AppResult};
use crate::server::admin::passwords;
use crate::server::admin::tokens;
use crate::server::admin::users;
use crate::server::entities::user;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser, RequestMeta};
use crate::server::platform::db::begin_write;
use crate::server::platform::state::AppState;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

fn invalid_credentials() -> AppError {
    AppError::Unauthorized("Invalid username or password".into())
}

fn password_sign_in_off(state: &AppState) -> AppError {
    let label = state
        .auth
        .sso
        .as_ref()
        .map_or("single sign-on", |sso| sso.label());
    AppError::Forbidden(format!(
        "Password sign-in is turned off on this server: sign in with {label}"
    ))
}

pub struct LoginOutcome {
    pub token: TokenResponse,
    pub profile: UserProfile,
}

pub async fn login(
    state: &AppState,
    meta: &RequestMeta,
    req: &LoginRequest,
) -> AppResult<LoginOutcome> {
    // Bounded before any work: an over-long value is never a valid account, and it must not
    // become a limiter key or an audit entry.
    let mut errors = crate::error::FieldErrors::new();
    if req.username.chars().count() > validation::USERNAME_MAX_LEN {
        errors.insert(
            "username".into(),
            format!("At most {} characters", validation::USERNAME_MAX_LEN),
        );
    }
    if req.password.chars().count() > validation::PASSWORD_MAX_LEN {
        errors.insert(
            "password".into(),
            format!("At most {} characters", validation::PASSWORD_MAX_LEN),
        );
    }
    for (field, value) in [("username", &req.username), ("password", &req.password)] {
        if value.contains('\0') {
            errors.insert(field.into(), "May not contain NUL characters".into());
        }
    }
    AppError::invalid("Invalid sign-in", errors)?;
    let username = validation::normalize_username(&req.username);
    if username.is_empty() || req.password.is_empty() {
        return Err(invalid_credentials());
    }
    // With password sign-in off, only the break-glass admin's password is checked at all.
    let settings = &state.auth;
    if settings.password_sign_in == PasswordSignIn::BreakGlass
        && username != settings.break_glass_admin
    {
        return Err(password_sign_in_off(state));
    }
    let ip = address_key(meta.client_ip.as_deref());
    let ip_key = format!("ip|{ip}");
    let limiter_key = format!("{ip}|{username}");
    // Counted as the attempt starts, so parallel guesses cannot all pass the check.
    state
        .login_ip_limiter
        .try_acquire(&ip_key)
        .await?
        .map_err(|retry_after| AppError::RateLimited { retry_after })?;
    let per_user = match state.login_limiter.try_acquire(&limiter_key).await {
        Ok(counted) => counted,
        Err(err) => {
            // A failure of ours gives the address's attempt back (best effort).
            let _ = state.login_ip_limiter.release(&ip_key).await;
            return Err(err);
        }
    };
    if let Err(retry_after) = per_user {
        state.login_ip_limiter.release(&ip_key).await?;
        return Err(AppError::RateLimited { retry_after });
    }

    let checked = check_credentials(state, meta, &username, &req.password).await;
    let user = match checked {
        Ok(user) => user,
        Err(err) => {
            // Only a wrong guess counts; a failure of ours (the database, a task) gives the
            // attempt back, so nobody is limited for an outage.
            if !matches!(err, AppError::Unauthorized(_)) {
                // Best effort: the database that failed may fail this too.
                let _ = state.login_limiter.release(&limiter_key).await;
                let _ = state.login_ip_limiter.release(&ip_key).await;
            }
            return Err(err);
        }
    };
    if !settings.password_sign_in.allows(
        &user.username,
        users::role_of(&user)?,
        &settings.break_glass_admin,
    ) {
        return Err(password_sign_in_off(state));
    }
    // A success forgets this user's failures and does not count against the address.
    state.login_limiter.reset(&limiter_key).await?;
    state.login_ip_limiter.release(&ip_key).await?;

    let (access_token, claims) =
        tokens::issue(&state.auth, user.id, tokens::SessionKind::Password)?;
    let txn = begin_write(&state.db).await?;
    let mut active: user::ActiveModel = user.clone().into();
    active.last_login_at = Set(Some(Utc::now()));
    let user = active.update(&txn).await?;
    let actor = Actor {
        id: Some(user.id),
        username: Some(user.username.clone()),
        client_ip: meta.client_ip.clone(),
        request_id: Some(meta.request_id.clone()),
        via_token: None,
    };
    audit::record(
        &txn,
        &actor,
        AuditRecord::new(AuditAction::AuthLogin, "session", &claims.jti),
    )
    .await?;
    txn.commit().await?;

    Ok(LoginOutcome {
        token: TokenResponse {
            access_token,
            token_type: "bearer".into(),
            expires_in: claims.exp - claims.iat,
        },
        profile: users::to_profile(&user)?,
    })
}

pub async fn logout(state: &AppState, user: &CurrentUser, meta: &RequestMeta) -> AppResult<()> {
    // Signing out with an API token revokes the token.
    if crate::server::admin::api_tokens::revoke_used(&state.db, user, &Actor::new(Some(user), meta))
        .await?
    {
        return Ok(());
    }
    let txn = begin_write(&state.db).await?;
    tokens::revoke(&txn, user.id, &user.jti, user.token_expires_at).await?;
    audit::record(
        &txn,
        &Actor::new(Some(user), meta),
        AuditRecord::new(AuditAction::AuthLogout, "session", &user.jti),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The full check behind every authenticated request: signature and expiry, revocation, the
/// user still existing and active, and the token being newer than the last password change.
pub async fn authenticate_token(
    state: &AppState,
    token: &str,
    via_cookie: bool,
) -> AppResult<CurrentUser> {
    let claims = tokens::decode(&state.auth, token)?;
    let user_id = claims.user_id()?;
    if tokens::is_revoked(&state.db, &claims.jti).await? {
        return Err(AppError::Unauthorized("Token revoked".into()));
    }
    let user = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::Unauthorized("Invalid token".into()))?;
    if !user.is_active {
        return Err(AppError::Unauthorized("Account is deactivated".into()));
    }
    if claims.iat < user.password_changed_at.timestamp() {
        return Err(AppError::Unauthorized(
            "Token invalidated by a password change".into(),
        ));
    }
    Ok(CurrentUser {
        id: user.id,
        role: users::role_of(&user)?,
        username: user.username,
        display_name: user.display_name,
        jti: claims.jti,
        token_expires_at: claims.exp,
        via_cookie,
        token_name: None,
        via_sso: claims.sso,
    })
}

/// The limiter's key for a client address: IPv4 addresses as they are, IPv6 addresses by
/// their /64 network (one host usually holds a whole /64, so single addresses cost nothing).
pub(crate) fn address_key(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        None => ip.unwrap_or("unknown").to_owned(),
    }
}

/// The account behind `username` when `password` is right and it is active; otherwise the
/// failed sign-in is audited and the answer is `Unauthorized`.
async fn check_credentials(
    state: &AppState,
    meta: &RequestMeta,
    username: &str,
    password: &str,
) -> AppResult<user::Model> {
    let found = users::find_by_username(&state.db, username).await?;
    let password = password.to_owned();
    // Argon2 is CPU-heavy: keep it off the async workers.
    let (found, verified) = tokio::task::spawn_blocking(move || match found {
        // An account without a password (a service account, an SSO account) never matches,
        // in the time a real check takes.
        Some(user) if user.password_hash.is_empty() => {
            passwords::verify_against_dummy(&password);
            (Some(user), false)
        }
        Some(user) => {
            let ok = passwords::verify(&password, &user.password_hash);
            (Some(user), ok)
        }
        None => {
            passwords::verify_against_dummy(&password);
            (None, false)
        }
    })
    .await
    .map_err(|e| AppError::internal(format!("password check task: {e}")))?;

    match found {
        Some(user) if verified && user.is_active => Ok(user),
        other => {
            let reason = match other {
                None => "unknown_user",
                Some(u) if !u.is_active => "inactive_user",
                Some(_) => "wrong_password",
            };
            let record = AuditRecord::new(AuditAction::AuthLoginFailed, users::ENTITY, username)
                .after(serde_json::json!({ "username": username, "reason": reason }));
            audit::record(&state.db, &Actor::new(None, meta), record).await?;
            Err(invalid_credentials())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_clients_are_limited_by_their_network() {
        assert_eq!(
            super::address_key(Some("2001:db8:1:2:3:4:5:6")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            super::address_key(Some("2001:db8:1:2:ffff::1")),
            super::address_key(Some("2001:db8:1:2::9"))
        );
        assert_eq!(super::address_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(super::address_key(None), "unknown");
    }
}
