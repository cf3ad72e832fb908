//! A small OpenID Connect provider for the single sign-on tests, on a free port: discovery,
//! JWKS (with keys that rotate), the authorization-code flow with PKCE (S256, checked at the
//! token endpoint as real providers do), RS256 ID tokens with a groups claim, and RP-initiated
//! logout. Knobs let a test make it misbehave: sign with a key it never publishes, answer the
//! token request with an error, return another nonce or audience, or be down.
//!
//! `authorize` signs in whoever `person` is at once (no login form): the tests play the
//! browser, following each redirect themselves.
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use http::{HeaderMap, StatusCode};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "aegis-test";
pub const CLIENT_SECRET: &str = "aegis-test-secret";

const FIRST_KEY: &str = include_str!("../../fixtures/oidc/first.pem");
const SECOND_KEY: &str = include_str!("../../fixtures/oidc/second.pem");
const ROGUE_KEY: &str = include_str!("../../fixtures/oidc/rogue.pem");

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone)]
pub struct Key {
    pub kid: &'static str,
    pem: &'static str,
}

impl Key {
    pub fn first() -> Self {
        Key {
            kid: "first",
            pem: FIRST_KEY,
        }
    }
    pub fn second() -> Self {
        Key {
            kid: "second",
            pem: SECOND_KEY,
        }
    }
    /// Never published: a token it signs must be refused.
    pub fn rogue() -> Self {
        Key {
            kid: "first",
            pem: ROGUE_KEY,
        }
    }

    fn jwk(&self) -> Value {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(self.pem).unwrap();
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be()),
        })
    }
}

/// Who the provider signs in.
#[derive(Clone, Debug)]
pub struct Person {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

impl Person {
    pub fn new(sub: &str, username: &str, groups: &[&str]) -> Self {
        Person {
            sub: sub.into(),
            email: Some(format!("{username}@example.org")),
            email_verified: true,
            preferred_username: Some(username.into()),
            name: Some(format!("{username} (SSO)")),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

struct Grant {
    redirect_uri: String,
    nonce: String,
    challenge: String,
    person: Person,
}

pub struct Knobs {
    pub person: Person,
    /// Signs the ID tokens.
    pub signing: Key,
    /// In the JWKS.
    pub published: Vec<Key>,
    /// The token endpoint answers this OAuth error instead of tokens.
    pub token_error: Option<&'static str>,
    pub nonce_override: Option<String>,
    pub audience_override: Option<String>,
    /// Seconds from now the ID token expires (negative: already expired).
    pub expires_in: i64,
    /// What the provider saw: the PKCE method of each authorization request, each token
    /// request's verifier check, and the sign-outs.
    pub challenge_methods: Vec<String>,
    pub pkce_checks: Vec<bool>,
    pub logouts: Vec<HashMap<String, String>>,
    pub jwks_fetches: usize,
    codes: HashMap<String, Grant>,
}

#[derive(Clone)]
pub struct Provider {
    pub issuer: String,
    knobs: Arc<Mutex<Knobs>>,
}

impl Provider {
    pub async fn start(person: Person) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let knobs = Arc::new(Mutex::new(Knobs {
            person,
            signing: Key::first(),
            published: vec![Key::first()],
            token_error: None,
            nonce_override: None,
            audience_override: None,
            expires_in: 300,
            challenge_methods: Vec::new(),
            pkce_checks: Vec::new(),
            logouts: Vec::new(),
            jwks_fetches: 0,
            codes: HashMap::new(),
        }));
        let provider = Provider {
            issuer,
            knobs: knobs.clone(),
        };
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/logout", get(logout))
            .with_state(provider.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        provider
    }

    /// Changes the provider's behaviour or person.
    pub fn set(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.knobs.lock().unwrap());
    }

    pub fn read<T>(&self, look: impl FnOnce(&Knobs) -> T) -> T {
        look(&self.knobs.lock().unwrap())
    }

    /// The environment that points Aegis at this provider.
    pub fn env(&self, role_map: &str, auto_create: bool) -> Vec<(&'static str, String)> {
        vec![
            ("AEGIS_OIDC_ISSUER", self.issuer.clone()),
            ("AEGIS_OIDC_CLIENT_ID", CLIENT_ID.into()),
            ("AEGIS_OIDC_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("AEGIS_OIDC_ROLE_MAP", role_map.into()),
            ("AEGIS_OIDC_AUTO_CREATE", auto_create.to_string()),
            ("AEGIS_OIDC_LABEL", "Test IdP".into()),
        ]
    }
}

async fn discovery(State(p): State<Provider>) -> Json<Value> {
    let i = &p.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "groups"],
    }))
}

async fn jwks(State(p): State<Provider>) -> Json<Value> {
    let mut knobs = p.knobs.lock().unwrap();
    knobs.jwks_fetches += 1;
    let keys: Vec<Value> = knobs.published.iter().map(Key::jwk).collect();
    Json(json!({ "keys": keys }))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

async fn authorize(State(p): State<Provider>, Query(q): Query<AuthorizeQuery>) -> Response {
    if q.response_type != "code"
        || q.client_id != CLIENT_ID
        || !q.scope.split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let mut knobs = p.knobs.lock().unwrap();
    knobs
        .challenge_methods
        .push(q.code_challenge_method.clone().unwrap_or_default());
    let code = uuid::Uuid::new_v4().simple().to_string();
    let person = knobs.person.clone();
    knobs.codes.insert(
        code.clone(),
        Grant {
            redirect_uri: q.redirect_uri.clone(),
            nonce: q.nonce.clone(),
            challenge: q.code_challenge.clone().unwrap_or_default(),
            person,
        },
    );
    let sep = if q.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let query = serde_urlencoded::to_string([("code", code.as_str()), ("state", q.state.as_str())])
        .unwrap();
    Redirect::to(&format!("{}{sep}{query}", q.redirect_uri)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

async fn token(
    State(p): State<Provider>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    // Client authentication: HTTP Basic (the crate's default) or in the form.
    let basic = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    let authenticated = basic.as_deref() == Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        || (form.client_id.as_deref() == Some(CLIENT_ID)
            && form.client_secret.as_deref() == Some(CLIENT_SECRET));
    if !authenticated {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let mut knobs = p.knobs.lock().unwrap();
    if form.grant_type != "authorization_code" {
        return oauth_error("unsupported_grant_type");
    }
    // A code is good once.
    let Some(grant) = knobs.codes.remove(&form.code) else {
        return oauth_error("invalid_grant");
    };
    let verified = form
        .code_verifier
        .as_deref()
        .is_some_and(|v| b64(&Sha256::digest(v.as_bytes())) == grant.challenge);
    knobs.pkce_checks.push(verified);
    if !verified || form.redirect_uri != grant.redirect_uri {
        return oauth_error("invalid_grant");
    }
    if let Some(error) = knobs.token_error {
        return oauth_error(error);
    }
    let now = chrono::Utc::now().timestamp();
    let person = &grant.person;
    let mut claims = json!({
        "iss": p.issuer,
        "sub": person.sub,
        "aud": knobs.audience_override.clone().unwrap_or_else(|| CLIENT_ID.into()),
        "iat": now,
        "exp": now + knobs.expires_in,
        "nonce": knobs.nonce_override.clone().unwrap_or(grant.nonce),
        "email_verified": person.email_verified,
        "groups": person.groups,
    });
    for (name, value) in [
        ("email", &person.email),
        ("preferred_username", &person.preferred_username),
        ("name", &person.name),
    ] {
        if let Some(value) = value {
            claims[name] = json!(value);
        }
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(knobs.signing.kid.to_owned());
    let key = {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let der = rsa::RsaPrivateKey::from_pkcs8_pem(knobs.signing.pem)
            .unwrap()
            .to_pkcs1_der()
            .unwrap();
        jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes())
    };
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    Json(json!({
        "access_token": uuid::Uuid::new_v4().simple().to_string(),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

async fn logout(State(p): State<Provider>, Query(q): Query<HashMap<String, String>>) -> Response {
    let back = q.get("post_logout_redirect_uri").cloned();
    p.knobs.lock().unwrap().logouts.push(q);
    match back {
        Some(url) => Redirect::to(&url).into_response(),
        None => "signed out".into_response(),
    }
}
