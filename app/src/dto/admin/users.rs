use crate::domain::rbac::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Someone work can be assigned to: what every signed-in user may know of a colleague.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Colleague {
    pub id: Uuid,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserDto {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub is_active: bool,
    /// How the account signs in: a password, the identity provider, or only with API tokens
    /// (a service account: no password, no provider).
    pub sign_in: SignInMethod,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::domain::values::string_enum! {
    /// How an account signs in.
    pub enum SignInMethod ("sign-in method") {
        Password = "password" / "Password",
        SingleSignOn = "sso" / "Single sign-on",
        ServiceAccount = "service_account" / "Service account (API tokens only)",
    }
}

/// `POST /users`. The role arrives as text so an unknown role is a field error, not a parse
/// failure of the whole body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    pub username: String,
    /// Required, unless `service_account`.
    #[serde(default)]
    pub password: String,
    pub role: String,
    /// A user without a password, for automation: an admin mints its API tokens
    /// (`POST /users/{id}/tokens`).
    #[serde(default)]
    pub service_account: bool,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// `PATCH /users/{id}`: every field optional; `email: ""` clears the address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Admin password reset.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserListQuery {
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
}
