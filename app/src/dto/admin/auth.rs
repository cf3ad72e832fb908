use crate::domain::rbac::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

/// How one may sign in here: the login page's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInOptions {
    /// Single sign-on, when an identity provider is configured.
    pub sso: Option<SsoOption>,
    /// Who may sign in with a password.
    pub password_sign_in: crate::domain::sso::PasswordSignIn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoOption {
    /// "Sign in with <label>".
    pub label: String,
    /// Where the browser starts the sign-in (add `?next=/path` to land there).
    pub login_url: String,
}

/// The signed-in user as the UI and `GET /auth/me` see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserProfile {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub is_active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// A personal access token as its owner sees it (never its secret, except once on creation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenDto {
    pub id: uuid::Uuid,
    pub name: String,
    /// The role the token acts with, when lower than its user's; none for the user's own.
    pub role: Option<crate::domain::rbac::Role>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST /auth/tokens`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Days until it expires (1 to `AEGIS_API_TOKEN_MAX_DAYS`; that maximum when missing).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// A role lower than the caller's (its permissions a subset of theirs).
    #[serde(default)]
    pub role: Option<crate::domain::rbac::Role>,
}

/// The answer to `POST /auth/tokens`: the token, shown this once, and its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// `aegis_pat_…`: send it as `Authorization: Bearer <token>`. It is not shown again.
    pub token: String,
    #[serde(flatten)]
    pub details: ApiTokenDto,
}
