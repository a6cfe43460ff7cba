//! Password hashing (Argon2id) and single-use tokens.

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// OWASP's first choice for password storage: Argon2id, m=19456 KiB, t=2, p=1.
fn params() -> Params {
    Params::new(19_456, 2, 1, None).expect("constant Argon2 parameters are valid")
}

/// Argon2's working memory (19 MiB at our parameters), kept for the next hash instead of being
/// allocated afresh each time. A fresh allocation is mapped in page by page: about 4,700 page faults
/// per hash, which on a Firecracker VM (Lambda's, and the bench machine's) cost about as much CPU
/// as the hash itself (`make bench` counts page faults per login). One spare is enough: a container
/// hashes for one request at a time.
static SPARE_MEMORY: Mutex<Option<Vec<Block>>> = Mutex::new(None);

/// Runs `f` with at least `params.block_count()` blocks of Argon2 memory, the spare's if it is free.
fn with_memory<T>(params: &Params, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let needed = params.block_count();
    let spare = SPARE_MEMORY.lock().ok().and_then(|mut s| s.take());
    let mut blocks = spare.filter(|b| b.len() >= needed).unwrap_or_else(|| vec![Block::default(); needed]);
    let result = f(&mut blocks[..needed]);
    if let Ok(mut s) = SPARE_MEMORY.lock() {
        *s = Some(blocks);
    }
    result
}

/// The PHC string of `password` under a fresh 128-bit salt (what the crate's `hash_password`
/// writes, on reused memory).
fn hash_phc(password: &[u8]) -> std::result::Result<String, argon2::password_hash::Error> {
    let params = params();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = Salt::new(&salt)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(&params, |blocks| argon2.hash_password_into_with_memory(password, &salt, &mut out, blocks))?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(Output::new(&out)?),
    }
    .to_string())
}

/// The most a stored hash may ask of a verification. Parameters are read from the stored string, so
/// that hashes made under older settings keep verifying; without a bound, one tampered or seeded
/// item (`m=8388608`, 8 GiB) would make every login of that account allocate and grind until the
/// function dies. These allow about six times today's cost (m=19456 KiB, t=2, p=1).
const MAX_MEMORY_KIB: u32 = 65_536;
const MAX_PASSES: u32 = 10;
const MAX_LANES: u32 = 4;
const MAX_COST_KIB_PASSES: u64 = 262_144;

/// Whether Argon2 parameters read from a stored hash are within what a verification may cost.
fn within_bounds(params: &Params) -> bool {
    params.m_cost() <= MAX_MEMORY_KIB
        && params.t_cost() <= MAX_PASSES
        && params.p_cost() <= MAX_LANES
        && u64::from(params.m_cost()) * u64::from(params.t_cost()) <= MAX_COST_KIB_PASSES
}

/// Whether `password` matches a PHC string, with the algorithm, version and parameters the string
/// records (so hashes made under older parameters keep verifying), as long as those parameters are
/// within bounds (a hash beyond them never verifies and costs nothing). The comparison of the
/// outputs is constant-time (`Output`'s equality).
fn verify_phc(password: &[u8], phc: &str) -> bool {
    let check = || -> std::result::Result<bool, argon2::password_hash::Error> {
        let hash = PasswordHash::new(phc)?;
        let algorithm = Algorithm::try_from(hash.algorithm.as_str())?;
        let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
        let params = Params::try_from(&hash)?;
        if !within_bounds(&params) {
            tracing::warn!("a stored password hash asks for Argon2 parameters beyond the bounds; refused");
            return Ok(false);
        }
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return Ok(false);
        };
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        with_memory(&params, |blocks| {
            argon2.hash_password_into_with_memory(password, salt, &mut out, blocks)
        })?;
        Ok(Output::new(&out)? == *expected)
    };
    check().unwrap_or(false)
}

/// Hashes a password to a PHC string. Argon2id takes tens of milliseconds of CPU by design, so it
/// runs on the blocking pool and never stalls the runtime's worker threads.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = secrecy::SecretString::from(password.to_owned());
    tokio::task::spawn_blocking(move || {
        use secrecy::ExposeSecret;
        hash_phc(password.expose_secret().as_bytes())
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
        let ok = verify_phc(password.expose_secret().as_bytes(), phc);
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
        hash_phc(random.as_bytes()).unwrap_or_else(|_| {
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

/// Whether text could be one of our tokens (`new_token`'s base64url, at most 128 characters):
/// anything else is refused before the store is asked.
pub fn could_be_token(t: &str) -> bool {
    !t.is_empty() && t.len() <= 128 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The S256 PKCE challenge of a verifier (RFC 7636 section 4.2): BASE64URL(SHA256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
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

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::{PasswordHasher, PasswordVerifier};
        // Ours verify with the crate's verifier.
        let ours = hash_phc(b"Correct-Horse-7-Battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        let crate_argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        assert!(crate_argon2.verify_password(b"Correct-Horse-7-Battery", &parsed).is_ok());
        // The crate's verify with ours, under other parameters too (hashes stored before a
        // parameter change keep working), and two salts never give the same string.
        for p in [params(), Params::new(8_192, 3, 1, None).unwrap()] {
            let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
                .hash_password(b"Correct-Horse-7-Battery")
                .unwrap()
                .to_string();
            assert!(verify_phc(b"Correct-Horse-7-Battery", &theirs));
            assert!(!verify_phc(b"Correct-Horse-7-Batterz", &theirs));
        }
        assert_ne!(ours, hash_phc(b"Correct-Horse-7-Battery").unwrap());
    }

    #[test]
    fn malformed_stored_hashes_never_verify() {
        let good = hash_phc(b"pw-Long-enough-1").unwrap();
        for bad in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            &good.replace("argon2id", "argon2x"),
            &good[..good.len() - 4],
        ] {
            assert!(!verify_phc(b"pw-Long-enough-1", bad), "{bad:?}");
        }
    }

    #[test]
    fn stored_parameters_beyond_the_bounds_are_refused_without_running() {
        // 8 GiB: refused before any memory is taken (this test would otherwise allocate it).
        let huge = "$argon2id$v=19$m=8388608,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3ZgA1mLzcX4zFbrFXwXJpWfYcG4e0Cgr5ZUZ3x6lP8M";
        assert!(!verify_phc(b"anything", huge));
        // A genuine hash of the password, under parameters over a bound, does not verify either.
        for p in [Params::new(8, 11, 1, None).unwrap(), Params::new(64, 1, 5, None).unwrap()] {
            use argon2::PasswordHasher;
            let over = Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
                .hash_password(b"pw-Long-enough-1")
                .unwrap()
                .to_string();
            assert!(!verify_phc(b"pw-Long-enough-1", &over), "{over}");
        }
        assert!(within_bounds(&params()));
        assert!(!within_bounds(&Params::new(65_536, 5, 1, None).unwrap()), "cost bound");
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
