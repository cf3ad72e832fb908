use crate::server::importers::uploads::UploadDir;
use crate::server::jobs::queue::JobQueue;
use crate::server::platform::rate_limit::RateLimiter;
use crate::server::workflow::evidence_store::EvidenceStore;
use axum::extract::FromRef;
use jsonwebtoken::{DecodingKey, EncodingKey};
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;

pub const SESSION_COOKIE: &str = "aegis_session";
pub const SSO_FLOW_COOKIE: &str = "aegis_sso";

/// Everything the authentication code needs, built once from config.
pub struct AuthSettings {
    pub encoding_key: EncodingKey,
    pub decoding_key: DecodingKey,
    pub token_ttl: Duration,
    pub cookie_secure: bool,
    /// The longest an API token may live (`AEGIS_API_TOKEN_MAX_DAYS`).
    pub api_token_max_days: u32,
    /// Single sign-on through the configured identity provider, when there is one.
    pub sso: Option<crate::server::admin::sso::Sso>,
    /// Who may still sign in with a password (`AEGIS_PASSWORD_SIGN_IN`).
    pub password_sign_in: crate::domain::sso::PasswordSignIn,
    /// The admin who keeps a password when password sign-in is off for everyone else.
    pub break_glass_admin: String,
}

impl AuthSettings {
    pub fn new(secret: &[u8], token_ttl: Duration, cookie_secure: bool) -> Self {
        Self {
            encoding_key: EncodingKey::from_secret(secret),
            decoding_key: DecodingKey::from_secret(secret),
            token_ttl,
            cookie_secure,
            api_token_max_days: 365,
            sso: None,
            password_sign_in: Default::default(),
            break_glass_admin: "admin".into(),
        }
    }

    /// Single sign-on, and who keeps password sign-in beside it.
    pub fn with_sso(
        mut self,
        sso: Option<crate::server::admin::sso::Sso>,
        password_sign_in: crate::domain::sso::PasswordSignIn,
        break_glass_admin: &str,
    ) -> Self {
        self.sso = sso;
        self.password_sign_in = password_sign_in;
        self.break_glass_admin = crate::domain::validation::normalize_username(break_glass_admin);
        self
    }

    pub fn with_api_token_max_days(mut self, days: u32) -> Self {
        self.api_token_max_days = days.max(1);
        self
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub auth: Arc<AuthSettings>,
    /// Sign-in attempts per client IP and username (and password checks per user).
    pub login_limiter: Arc<RateLimiter>,
    /// Sign-in attempts per client IP, whatever the username: a spray across usernames.
    pub login_ip_limiter: Arc<RateLimiter>,
    pub leptos_options: LeptosOptions,
    pub jobs: Arc<dyn JobQueue>,
    pub evidence: Arc<EvidenceStore>,
    /// Where uploads wait for their import job.
    pub uploads: UploadDir,
    /// Largest uploaded import (ATT&CK bundle, Atomic Red Team archive).
    pub max_import_bytes: u64,
    /// Near-static answers (the matrix, the dashboard's figures), kept while their versions
    /// are current.
    pub cache: Arc<crate::server::platform::read_cache::ReadCache>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
