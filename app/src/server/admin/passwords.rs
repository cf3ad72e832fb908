//! Argon2id with OWASP's recommended parameters (19 MiB, 2 iterations, 1 lane).
use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::TryRngCore;
use rand::rngs::OsRng;
use std::sync::OnceLock;

fn hasher() -> AppResult<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| AppError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &str) -> AppResult<String> {
    let mut salt_bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut salt_bytes)
        .map_err(|e| AppError::internal(format!("random: {e}")))?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AppError::internal(format!("salt: {e}")))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2 hash: {e}")))
}

pub fn verify(password: &str, stored_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the same time as a real verification, so an unknown username cannot be told apart
/// from a wrong password by timing.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(dummy) = DUMMY.get_or_init(|| hash("aegis-dummy-password").ok()) {
        let _ = verify(password, dummy);
    }
}

/// [`hash`] on the blocking pool: Argon2 is CPU-heavy and would stall the async workers.
pub async fn hash_blocking(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| AppError::internal(format!("password hash task: {e}")))?
}

/// [`verify`] on the blocking pool.
pub async fn verify_blocking(password: String, stored_hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || verify(&password, &stored_hash))
        .await
        .map_err(|e| AppError::internal(format!("password check task: {e}")))
}

/// A random password that a person can still type: 20 characters without look-alikes.
pub fn generate() -> AppResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| AppError::internal(format!("random: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate().unwrap();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate().unwrap());
    }
}
