//! JWT access tokens: HS256 only, with `exp`, `iat`, `sub` and `jti`.
use crate::error::{AppError, AppResult};
use crate::server::entities::revoked_token;
use crate::server::platform::state::AuthSettings;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Opened by a sign-in through the identity provider (logout may end its session too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sso: bool,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Password,
    SingleSignOn,
}

impl Claims {
    pub fn user_id(&self) -> AppResult<Uuid> {
        Uuid::parse_str(&self.sub).map_err(|_| AppError::Unauthorized("Invalid token".into()))
    }
}

pub fn issue(
    settings: &AuthSettings,
    user_id: Uuid,
    kind: SessionKind,
) -> AppResult<(String, Claims)> {
    let now = Utc::now().timestamp();
    let ttl = i64::try_from(settings.token_ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let claims = Claims {
        sub: user_id.to_string(),
        iat: now,
        exp: now + ttl,
        jti: Uuid::new_v4().simple().to_string(),
        sso: kind == SessionKind::SingleSignOn,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &settings.encoding_key,
    )
    .map_err(|e| AppError::internal(format!("jwt encode: {e}")))?;
    Ok((token, claims))
}

/// Checks signature, algorithm and expiry. Whether the token was revoked, or its user is still
/// active, is the session service's business.
pub fn decode(settings: &AuthSettings, token: &str) -> AppResult<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iat", "sub", "jti"]);
    jsonwebtoken::decode::<Claims>(token, &settings.decoding_key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                AppError::Unauthorized("Token expired".into())
            }
            _ => AppError::Unauthorized("Invalid token".into()),
        })
}

pub async fn is_revoked(conn: &impl ConnectionTrait, jti: &str) -> AppResult<bool> {
    Ok(revoked_token::Entity::find_by_id(jti.to_owned())
        .one(conn)
        .await?
        .is_some())
}

pub async fn revoke(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    jti: &str,
    expires_at: i64,
) -> AppResult<()> {
    let expires_at = DateTime::<Utc>::from_timestamp(expires_at, 0).unwrap_or_else(Utc::now);
    let row = revoked_token::ActiveModel {
        jti: Set(jti.to_owned()),
        user_id: Set(user_id),
        expires_at: Set(expires_at),
        revoked_at: Set(Utc::now()),
    };
    // Revoking twice (a double logout) is not an error.
    revoked_token::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(revoked_token::Column::Jti)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Revocations of expired tokens can be forgotten: the expiry check rejects them anyway.
pub async fn purge_expired(conn: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let result = revoked_token::Entity::delete_many()
        .filter(revoked_token::Column::ExpiresAt.lt(Utc::now()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings() -> AuthSettings {
        AuthSettings::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(3600),
            false,
        )
    }

    #[test]
    fn round_trip() {
        let s = settings();
        let id = Uuid::new_v4();
        let (token, claims) = issue(&s, id, SessionKind::Password).unwrap();
        let decoded = decode(&s, &token).unwrap();
        assert_eq!(decoded.user_id().unwrap(), id);
        assert_eq!(decoded.jti, claims.jti);
        assert_eq!(decoded.exp - decoded.iat, 3600);
        assert!(!decoded.sso);
        let (token, _) = issue(&s, id, SessionKind::SingleSignOn).unwrap();
        assert!(decode(&s, &token).unwrap().sso);
    }

    #[test]
    fn rejects_other_keys_algorithms_and_expired_tokens() {
        let s = settings();
        let other = AuthSettings::new(
            b"another secret another secret!!",
            Duration::from_secs(60),
            false,
        );
        let (token, _) = issue(&other, Uuid::new_v4(), SessionKind::Password).unwrap();
        assert!(decode(&s, &token).is_err(), "wrong key");

        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: Uuid::new_v4().to_string(),
            iat: now - 100,
            exp: now - 10,
            jti: "x".into(),
            sso: false,
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &s.encoding_key).unwrap();
        assert_eq!(
            decode(&s, &expired).unwrap_err(),
            AppError::Unauthorized("Token expired".into())
        );

        let fresh = Claims {
            exp: now + 100,
            ..claims
        };
        let hs512 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &fresh, &s.encoding_key).unwrap();
        assert!(decode(&s, &hs512).is_err(), "HS512 must be rejected");

        // alg=none: header {"alg":"none","typ":"JWT"} with the payload and an empty signature.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&fresh).unwrap())
        );
        assert!(decode(&s, &none).is_err(), "alg none must be rejected");
    }
}
