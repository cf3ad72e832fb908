//! What the HTTP middleware learns about a request, carried in request extensions so REST
//! handlers and server functions read the same thing.
use crate::domain::rbac::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::server::platform::state::AppState;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The token's id and expiry, needed to revoke it on logout.
    pub jti: String,
    pub token_expires_at: i64,
    /// Authenticated by the session cookie (browser) rather than a bearer header.
    pub via_cookie: bool,
    /// Set when the caller is an API token (`aegis_pat_…`): its name, for the audit log.
    pub token_name: Option<String>,
    /// The session was opened through the identity provider.
    pub via_sso: bool,
}

impl CurrentUser {
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.role.can(permission) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// The authentication outcome for one request: `None` when anonymous.
#[derive(Clone, Debug, Default)]
pub struct Auth(pub Option<CurrentUser>);

impl Auth {
    pub fn user(&self) -> AppResult<&CurrentUser> {
        self.0.as_ref().ok_or_else(AppError::unauthenticated)
    }

    pub fn require(&self, permission: Permission) -> AppResult<&CurrentUser> {
        let user = self.user()?;
        user.require(permission)?;
        Ok(user)
    }
}

#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub client_ip: Option<String>,
    pub request_id: String,
}

/// Who did something, as the audit log records it.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub username: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    /// The API token's name, when the user acts through one.
    pub via_token: Option<String>,
}

impl Actor {
    pub fn new(user: Option<&CurrentUser>, meta: &RequestMeta) -> Self {
        Self {
            id: user.map(|u| u.id),
            username: user.map(|u| u.username.clone()),
            client_ip: meta.client_ip.clone(),
            request_id: Some(meta.request_id.clone()),
            via_token: user.and_then(|u| u.token_name.clone()),
        }
    }

    /// Work done by the system itself (bootstrap, CLI, jobs).
    pub fn system(label: &str) -> Self {
        Self {
            username: Some(label.to_owned()),
            ..Self::default()
        }
    }
}

/// The request context inside a server function: the shared state, who is calling, and the
/// request's metadata.
pub struct ServerFnContext {
    pub state: AppState,
    pub auth: Auth,
    pub meta: RequestMeta,
}

impl ServerFnContext {
    pub fn load() -> AppResult<Self> {
        let state = leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| AppError::internal("AppState missing from server function context"))?;
        let parts = leptos::prelude::use_context::<http::request::Parts>().ok_or_else(|| {
            AppError::internal("request parts missing from server function context")
        })?;
        let auth = parts.extensions.get::<Auth>().cloned().unwrap_or_default();
        let meta = parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .unwrap_or_default();
        Ok(Self { state, auth, meta })
    }

    pub fn actor(&self) -> Actor {
        Actor::new(self.auth.0.as_ref(), &self.meta)
    }
}

/// The per-response nonce that the Content-Security-Policy allows inline scripts to carry.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);
