//! Password hashing (Argon2id) and single-use tokens.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// OWASP's first choice for password storage: Argon2id, m=19456 KiB, t=2, p=1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password to a PHC string. Argon2id takes tens of milliseconds of CPU by design, so it
/// runs on the blocking pool and never stalls the runtime's worker threads.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = secrecy::SecretString::from(password.to_owned());
    tokio::task::spawn_blocking(move || {
        use secrecy::ExposeSecret;
        argon2()
            .hash_password(password.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))?
}

/// Checks a password against a stored PHC string, on the blocking pool. `None` (an unknown user, or
/// an account without a password) is checked against a fixed dummy hash with the same parameters,
/// so that the answer takes as long as for a known user and does not reveal whether the email
/// exists; the result is then always `false`.
pub async fn verify_password(password: &str, phc: Option<&str>) -> Result<bool> {
    let password = secrecy::SecretString::from(password.to_owned());
    let stored = phc.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        use secrecy::ExposeSecret;
        let (phc, real) = match &stored {
            Some(p) => (p.as_str(), true),
            None => (dummy_hash(), false),
        };
        let ok = argon2().verify_password(password.expose_secret().as_bytes(), phc).is_ok();
        ok && real
    })
    .await
    .map_err(|e| Error::Internal(format!("verification task failed: {e}")))
}

/// A hash of a random password, made once per container with the production parameters. The login
/// function builds it during its cold start; elsewhere it is built on first use, on the blocking pool.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let (random, _) = new_token();
        argon2().hash_password(random.as_bytes()).map(|h| h.to_string()).unwrap_or_else(|_| {
            // Never expected; a fixed valid PHC string keeps the timing equal all the same.
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3ZgA1mLzcX4zFbrFXwXJpWfYcG4e0Cgr5ZUZ3x6lP8M".to_owned()
        })
    })
}

/// A fresh single-use token: 256 bits from the OS random source, base64url without padding, and
/// the SHA-256 (hex) under which it is stored. The token itself is never stored or logged.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// SHA-256 of a token, hex-encoded: the only form in which a token reaches the store.
pub fn token_hash(token: &str) -> String {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A random identifier (sessions, users): UUID v7, so that ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_the_chosen_parameters() {
        let h = hash_password("Correct-Horse-7-Battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("Correct-Horse-7-Battery", Some(&h)).await.unwrap());
        assert!(!verify_password("correct-horse-7-battery", Some(&h)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        assert!(!verify_password("anything", None).await.unwrap());
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43); // 32 bytes in base64url
        assert_eq!(ha.len(), 64);
        assert_eq!(ha, token_hash(&a));
        assert!(!ha.contains(&a));
    }
}
