//! Single sign-on with one OpenID Connect provider: the authorization-code flow with PKCE,
//! `state` and `nonce` (through the `openidconnect` crate: discovery, JWKS, ID-token checks of
//! issuer, audience, expiry, nonce and the signature algorithms the provider announces).
//!
//! `start` keeps the flow's secrets in `oidc_logins` (so the callback may reach any server
//! process) and hands the browser the `state` in a cookie; `finish` takes the row once, trades
//! the code for tokens, verifies the ID token, maps the provider's groups to a role
//! (`domain::sso::RoleMap`), finds the account by the provider's `sub` (or links one by
//! verified email, or creates one when allowed), re-evaluates its role, and opens the same
//! session a password sign-in opens. Every refusal is audited and becomes an `SsoFailure` the
//! login page explains; only our own faults (the database) are errors.
use crate::domain::audit::AuditAction;
use crate::domain::sso::{GROUP_MAX_LEN, GROUPS_MAX, RoleMap, SsoFailure};
use crate::domain::validation;
use crate::error::{AppError, AppResult};
use crate::server::admin::sessions;
use crate::server::entities::oidc_login;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, RequestMeta};
use crate::server::platform::db::begin_write;
use crate::server::platform::state::AppState;
use base64::Engine;
use chrono::Utc;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

mod account;

/// How long a started sign-in may take to come back.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
/// Sign-ins under way at once, over all visitors: beyond this, new ones wait for old ones to
/// expire (an unauthenticated flood cannot grow the table without end).
const FLOWS_MAX: u64 = 10_000;
/// How long the provider's discovery document and keys are used before fetching them again
/// (a token signed with a key not among them fetches them at once).
const PROVIDER_TTL: Duration = Duration::from_secs(900);
const AUDIT_ENTITY: &str = "sso";

/// The provider and how its answers map onto Aegis (from `AEGIS_OIDC_*`).
#[derive(Debug, Clone)]
pub struct SsoSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID-token claim holding the person's groups (or roles).
    pub groups_claim: String,
    pub redirect_url: String,
    /// Where the provider sends the browser after its own sign-out.
    pub post_logout_redirect_url: String,
    /// "Sign in with <label>".
    pub label: String,
    /// Create the account at its first sign-in.
    pub auto_create: bool,
    pub role_map: RoleMap,
    /// Each call to the provider, connection included.
    pub timeout: Duration,
}

/// The configured provider, with its discovery document and keys cached.
pub struct Sso {
    settings: SsoSettings,
    http: openidconnect::reqwest::Client,
    provider: RwLock<Option<(Instant, Arc<ProviderMetadataWithLogout>)>>,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("issuer", &self.settings.issuer)
            .finish()
    }
}

/// A refusal and what the audit entry says about it.
struct Refusal {
    failure: SsoFailure,
    detail: String,
}

impl Refusal {
    fn new(failure: SsoFailure, detail: impl std::fmt::Display) -> Self {
        Self {
            failure,
            detail: detail.to_string(),
        }
    }
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl Sso {
    pub fn new(settings: SsoSettings) -> AppResult<Self> {
        let http = openidconnect::reqwest::Client::builder()
            // The crate's advice: never follow redirects from the provider (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| AppError::internal(format!("OIDC HTTP client: {e}")))?;
        Ok(Self {
            settings,
            http,
            provider: RwLock::new(None),
        })
    }

    pub fn label(&self) -> &str {
        &self.settings.label
    }

    /// The discovery document and keys: cached, or fetched when stale or `refresh`.
    async fn provider(&self, refresh: bool) -> Result<Arc<ProviderMetadataWithLogout>, Refusal> {
        if !refresh
            && let Some((at, provider)) = self.provider.read().await.as_ref()
            && at.elapsed() < PROVIDER_TTL
        {
            return Ok(provider.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| Refusal::new(SsoFailure::ProviderUnreachable, e))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                Refusal::new(
                    SsoFailure::ProviderUnreachable,
                    format!("discovery: {}", error_chain(&e)),
                )
            })?;
        let provider = Arc::new(metadata);
        *self.provider.write().await = Some((Instant::now(), provider.clone()));
        Ok(provider)
    }

    fn client(&self, provider: &ProviderMetadataWithLogout) -> Result<Client, Refusal> {
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| Refusal::new(SsoFailure::ProviderUnreachable, e))?;
        Ok(CoreClient::from_provider_metadata(
            provider.clone(),
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text.chars().take(500).collect()
}

fn hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn configured(state: &AppState) -> Result<&Sso, SsoFailure> {
    state.auth.sso.as_ref().ok_or(SsoFailure::NotConfigured)
}

async fn refuse(
    state: &AppState,
    meta: &RequestMeta,
    refusal: Refusal,
    extra: Value,
) -> SsoFailure {
    tracing::info!(reason = refusal.failure.as_str(), detail = %refusal.detail, "single sign-on refused");
    // Refusals cost nothing to provoke: each address writes at most the sign-in allowance of
    // entries a window, so nobody can flood the audit log through the callback.
    let key = format!(
        "sso-refused|{}",
        sessions::address_key(meta.client_ip.as_deref())
    );
    if !matches!(state.login_ip_limiter.try_acquire(&key).await, Ok(Ok(()))) {
        return refusal.failure;
    }
    let mut after = json!({ "reason": refusal.failure.as_str(), "detail": refusal.detail });
    if let (Some(after), Value::Object(extra)) = (after.as_object_mut(), extra) {
        after.extend(extra);
    }
    let record = AuditRecord::new(AuditAction::AuthSsoFailed, AUDIT_ENTITY, "oidc").after(after);
    // Best effort: the refusal is shown whether or not the database takes the entry.
    if let Err(err) = audit::record(&state.db, &Actor::new(None, meta), record).await {
        tracing::warn!(error = %err.detail(), "could not audit a refused single sign-on");
    }
    refusal.failure
}

/// Where to send the browser to sign in, and the `state` its flow cookie must hold.
pub struct Started {
    pub authorize_url: String,
    pub state: String,
}

/// Starts a sign-in: the provider's authorization URL (PKCE S256, `state`, `nonce`), with the
/// flow kept for [`FLOW_TTL`]. `next` is where the browser goes once signed in.
pub async fn start(
    state: &AppState,
    meta: &RequestMeta,
    next: Option<&str>,
) -> AppResult<Result<Started, SsoFailure>> {
    let sso = match configured(state) {
        Ok(sso) => sso,
        Err(failure) => return Ok(Err(failure)),
    };
    // Each start writes a row: counted per address like password sign-ins.
    let key = format!("sso|{}", sessions::address_key(meta.client_ip.as_deref()));
    if state.login_ip_limiter.try_acquire(&key).await?.is_err() {
        return Ok(Err(SsoFailure::RateLimited));
    }
    let provider = match sso.provider(false).await {
        Ok(provider) => provider,
        Err(refusal) => return Ok(Err(refuse(state, meta, refusal, json!({})).await)),
    };
    let client = match sso.client(&provider) {
        Ok(client) => client,
        Err(refusal) => return Ok(Err(refuse(state, meta, refusal, json!({})).await)),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in sso.settings.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf, nonce) = request.url();

    let now = Utc::now();
    let txn = begin_write(&state.db).await?;
    let expired = now - chrono::Duration::from_std(FLOW_TTL).unwrap_or_default();
    oidc_login::Entity::delete_many()
        .filter(oidc_login::Column::CreatedAt.lt(expired))
        .exec(&txn)
        .await?;
    if oidc_login::Entity::find().count(&txn).await? >= FLOWS_MAX {
        return Ok(Err(SsoFailure::RateLimited));
    }
    oidc_login::ActiveModel {
        state_hash: Set(hash(csrf.secret())),
        nonce: Set(nonce.secret().clone()),
        pkce_verifier: Set(verifier.secret().clone()),
        next_path: Set(next.map(|n| crate::api::safe_next(Some(n)))),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Ok(Started {
        authorize_url: url.to_string(),
        state: csrf.secret().clone(),
    }))
}

/// What the provider's redirect back brings.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A sign-in that ended with a session.
pub struct Finished {
    pub access_token: String,
    pub next: String,
}

/// Who the verified ID token says signed in.
#[derive(Clone)]
struct Identity {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    preferred_username: Option<String>,
    name: Option<String>,
    groups: Vec<String>,
}

/// Finishes a sign-in on the provider's redirect back. `cookie_state` is the flow cookie's.
pub async fn finish(
    state: &AppState,
    meta: &RequestMeta,
    query: &CallbackQuery,
    cookie_state: Option<&str>,
) -> AppResult<Result<Finished, SsoFailure>> {
    let sso = match configured(state) {
        Ok(sso) => sso,
        Err(failure) => return Ok(Err(failure)),
    };
    match verify(state, sso, query, cookie_state).await? {
        Ok((identity, next)) => {
            // Two first sign-ins at once (two tabs) race to create or link the account: the
            // loser finds it on its second try.
            match account::sign_in(state, sso, meta, identity.clone(), next.clone()).await {
                Err(AppError::Conflict(_)) => {
                    match account::sign_in(state, sso, meta, identity, next).await {
                        Err(AppError::Conflict(detail)) => {
                            let refusal = Refusal::new(SsoFailure::AccountConflict, detail);
                            Ok(Err(refuse(state, meta, refusal, json!({})).await))
                        }
                        other => other,
                    }
                }
                other => other,
            }
        }
        // A callback without any flow cookie is not a sign-in of this browser at all (a stale
        // link, a crawler): refused, logged, not audited.
        Err(refusal) if refusal.failure == SsoFailure::BadState && cookie_state.is_none() => {
            tracing::info!(detail = %refusal.detail, "single sign-on callback without a flow");
            Ok(Err(refusal.failure))
        }
        Err(refusal) => Ok(Err(refuse(state, meta, refusal, json!({})).await)),
    }
}

/// The flow taken once (the `state` must match the browser's cookie and a live row), the code
/// traded, the ID token verified: who signed in, and where to go next.
async fn verify(
    state: &AppState,
    sso: &Sso,
    query: &CallbackQuery,
    cookie_state: Option<&str>,
) -> AppResult<Result<(Identity, String), Refusal>> {
    let bad_state = |detail: &str| Ok(Err(Refusal::new(SsoFailure::BadState, detail)));
    let Some(returned) = query.state.as_deref().filter(|s| s.len() <= 512) else {
        return bad_state("the callback carries no state");
    };
    if cookie_state != Some(returned) {
        return bad_state("the state does not match this browser's sign-in");
    }
    // Taken once: a second callback with the same state finds nothing.
    let Some(flow) = oidc_login::Entity::find_by_id(hash(returned))
        .one(&state.db)
        .await?
    else {
        return bad_state("no sign-in under way with this state (used or expired)");
    };
    let taken = oidc_login::Entity::delete_many()
        .filter(oidc_login::Column::StateHash.eq(flow.state_hash.clone()))
        .exec(&state.db)
        .await?;
    if taken.rows_affected != 1 {
        return bad_state("this sign-in was finished by another request");
    }
    if Utc::now() - flow.created_at > chrono::Duration::from_std(FLOW_TTL).unwrap_or_default() {
        return bad_state("the sign-in expired");
    }
    let next = crate::api::safe_next(flow.next_path.as_deref());
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().unwrap_or("");
        let detail: String = format!("{error}: {description}")
            .chars()
            .take(300)
            .collect();
        return Ok(Err(Refusal::new(SsoFailure::ProviderError, detail)));
    }
    let Some(code) = query
        .code
        .clone()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
    else {
        return Ok(Err(Refusal::new(
            SsoFailure::ProviderError,
            "the callback carries no code",
        )));
    };

    let provider = match sso.provider(false).await {
        Ok(provider) => provider,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let client = match sso.client(&provider) {
        Ok(client) => client,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let exchange = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(request) => request,
        Err(e) => {
            return Ok(Err(Refusal::new(
                SsoFailure::ProviderUnreachable,
                format!("the provider announces no token endpoint: {e}"),
            )));
        }
    };
    let response = exchange
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(&sso.http)
        .await;
    let response = match response {
        Ok(response) => response,
        Err(RequestTokenError::ServerResponse(err)) => {
            return Ok(Err(Refusal::new(
                SsoFailure::ExchangeFailed,
                format!("token endpoint: {err}"),
            )));
        }
        Err(RequestTokenError::Request(err)) => {
            return Ok(Err(Refusal::new(
                SsoFailure::ProviderUnreachable,
                format!("token endpoint: {}", error_chain(&err)),
            )));
        }
        Err(err) => {
            return Ok(Err(Refusal::new(
                SsoFailure::ExchangeFailed,
                format!("token endpoint: {}", error_chain(&err)),
            )));
        }
    };
    let Some(id_token) = response.id_token() else {
        return Ok(Err(Refusal::new(
            SsoFailure::InvalidToken,
            "the token answer holds no ID token",
        )));
    };
    let nonce = Nonce::new(flow.nonce.clone());
    let verified = match checked_claims(&client, id_token, &nonce) {
        // A key we do not know yet: the provider may have rotated its keys.
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let provider = match sso.provider(true).await {
                Ok(provider) => provider,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let client = match sso.client(&provider) {
                Ok(client) => client,
                Err(refusal) => return Ok(Err(refusal)),
            };
            checked_claims(&client, id_token, &nonce)
        }
        other => other,
    };
    let identity = match verified {
        Ok(subject) => subject,
        Err(err) => {
            return Ok(Err(Refusal::new(
                SsoFailure::InvalidToken,
                format!("ID token: {}", error_chain(&err)),
            )));
        }
    };
    let identity = match identity_from(id_token, identity, &sso.settings.groups_claim) {
        Ok(identity) => identity,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(Ok((identity, next)))
}

/// The verified token's subject (signature, issuer, audience, expiry and nonce checked).
fn checked_claims(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<String, ClaimsVerificationError> {
    let verifier = client.id_token_verifier();
    id_token
        .claims(&verifier, nonce)
        .map(|claims| claims.subject().to_string())
}

/// The claims of a token already verified: read from its payload, so that the groups claim
/// may have any name the provider gives it.
fn identity_from(
    id_token: &CoreIdToken,
    subject: String,
    groups_claim: &str,
) -> Result<Identity, Refusal> {
    let invalid = |detail: &str| Refusal::new(SsoFailure::InvalidToken, detail);
    let raw = id_token.to_string();
    let payload = raw
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("the ID token is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the ID token's payload is not base64url"))?;
    let claims: serde_json::Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| invalid("the ID token's payload is not JSON"))?;
    let text = |name: &str, max: usize| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.chars().count() <= max)
            .map(str::to_owned)
    };
    let groups = match claims.get(groups_claim) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|g| g.chars().count() <= GROUP_MAX_LEN)
            .take(GROUPS_MAX)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => one
            .split([',', ' '])
            .filter(|g| !g.is_empty() && g.chars().count() <= GROUP_MAX_LEN)
            .take(GROUPS_MAX)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if subject.is_empty() || subject.len() > 255 {
        return Err(invalid(
            "the ID token's subject is empty or longer than 255 bytes",
        ));
    }
    Ok(Identity {
        subject,
        email: text("email", validation::EMAIL_MAX_LEN).map(|e| e.to_lowercase()),
        email_verified: claims
            .get("email_verified")
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true")),
        preferred_username: text("preferred_username", 256),
        name: text("name", validation::DISPLAY_NAME_MAX_LEN),
        groups,
    })
}

/// Where the browser goes to end the provider's session too (RP-initiated logout), when the
/// provider announces an `end_session_endpoint`; `None` otherwise or when it cannot be reached.
pub async fn logout_url(state: &AppState) -> Option<String> {
    let sso = state.auth.sso.as_ref()?;
    let provider = sso.provider(false).await.ok()?;
    let end_session = provider
        .additional_metadata()
        .end_session_endpoint
        .clone()?;
    let mut request = LogoutRequest::from(end_session)
        .set_client_id(ClientId::new(sso.settings.client_id.clone()));
    if let Ok(back) = PostLogoutRedirectUrl::new(sso.settings.post_logout_redirect_url.clone()) {
        request = request.set_post_logout_redirect_uri(back);
    }
    Some(request.http_get_url().to_string())
}

/// The login page's choices.
pub fn sign_in_options(state: &AppState) -> crate::dto::admin::auth::SignInOptions {
    crate::dto::admin::auth::SignInOptions {
        sso: state
            .auth
            .sso
            .as_ref()
            .map(|sso| crate::dto::admin::auth::SsoOption {
                label: sso.label().to_owned(),
                login_url: "/auth/oidc/login".into(),
            }),
        password_sign_in: state.auth.password_sign_in,
    }
}
