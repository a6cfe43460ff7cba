//! TOTP (RFC 6238 with SHA-1, 6 digits, 30-second steps, one step of drift each way), through
//! `totp-rs`: a fresh secret, its `otpauth://` URI for the authenticator app, and the time step a
//! code belongs to, so that the caller can refuse it a second time.

use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::error::{Error, Result};

/// RFC 4226 section 4 asks for at least 128 bits and recommends 160: an authenticator app's
/// usual length.
const SECRET_BYTES: usize = 20;
const STEP_SECONDS: u64 = 30;

/// A new random secret, as its base32 (what the user's app is given and what is sealed).
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    Secret::from(bytes.to_vec()).to_base32()
}

fn totp(secret_base32: &str, issuer: Option<&str>, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| Error::Internal("a stored TOTP secret is not base32".into()))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .with_issuer(issuer.map(label))
        .with_account_name(label(account))
        .build()
        .map_err(|e| Error::Internal(format!("TOTP parameters: {e}")))
}

/// `otpauth://totp/<issuer>:<account>?secret=...&issuer=...`: what an authenticator app scans.
pub fn uri(secret_base32: &str, issuer: &str, account: &str) -> Result<String> {
    totp(secret_base32, Some(issuer), account)?
        .to_url()
        .map_err(|e| Error::Internal(format!("otpauth URI: {e}")))
}

/// The time step of `code` at `now` (epoch seconds), if it is the code of the current step or of
/// one step before or after; `None` for any other code, or text that is no code.
pub fn step_of(secret_base32: &str, code: &str, now: u64) -> Result<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret_base32, None, "")?;
    Ok(totp.check(&code, now).map(|step| step as i64))
}

/// A label part of the URI: `:` separates issuer and account there, so it cannot be in either.
fn label(raw: &str) -> String {
    let cleaned: String = raw.chars().filter(|c| *c != ':' && !c.is_control()).collect();
    if cleaned.trim().is_empty() { "account".to_owned() } else { cleaned.trim().to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the secret is ASCII "12345678901234567890"; the RFC's codes
    /// have 8 digits, of which a 6-digit code is the last six.
    #[test]
    fn codes_are_rfc_6238s_and_one_step_of_drift_is_allowed() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (time, code) in [(59u64, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924")] {
            assert_eq!(step_of(&secret, code, time).unwrap(), Some((time / 30) as i64), "{time}");
            assert_eq!(step_of(&secret, code, time + 30).unwrap(), Some((time / 30) as i64), "a step late");
            assert_eq!(step_of(&secret, code, time + 60).unwrap(), None, "two steps late");
        }
        assert_eq!(step_of(&secret, "28708", 59).unwrap(), None);
        assert_eq!(step_of(&secret, "abcdef", 59).unwrap(), None);
        assert_eq!(step_of(&secret, "287 082", 59).unwrap(), Some(1), "spaces are ignored");
    }

    #[test]
    fn the_uri_names_the_app_and_the_account() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let uri = uri(&secret, "Demo: App", "ada@example.com").unwrap();
        assert!(uri.starts_with("otpauth://totp/Demo%20App:ada%40example.com?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert!(uri.contains("issuer=Demo%20App"), "{uri}");
    }
}
