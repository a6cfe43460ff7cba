//! Second factors (issue 26): TOTP apps and recovery codes, the second step of a sign-in, the
//! step-up of a session, the app's `mfa` settings and the backend's reset. Codes are computed here
//! by an RFC 6238 implementation of the test's own (HMAC-SHA-1 of aws-lc-rs, checked against the
//! RFC's vectors below), not by the product's.

mod dashboard;
mod enrol;
mod provider;
mod required;
mod sign_in;

use auth_tests::{PASSWORD, TestApp, TestResponse, unique_email};
use serde_json::{Value, json};

/// RFC 4648 base32 (no padding, upper case), as an authenticator app reads the secret.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase()).expect("base32") as u64;
        value = (value << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// RFC 6238's TOTP with SHA-1, 30-second steps, `digits` digits, at epoch second `time`.
fn totp_at(key: &[u8], time: u64, digits: u32) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let tag = hmac::sign(&key, &(time / 30).to_be_bytes());
    let mac = tag.as_ref();
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    format!("{:0width$}", binary % 10u32.pow(digits), width = digits as usize)
}

/// The code an authenticator app shows now for the base32 `secret`, `steps` steps from now.
fn code(secret: &str, steps: i64) -> String {
    let now = chrono::Utc::now().timestamp() + steps * 30;
    totp_at(&base32_decode(secret), now as u64, 6)
}

#[test]
fn the_tests_totp_is_rfc_6238s() {
    // Appendix B, SHA-1, 8 digits: the secret is the ASCII of "12345678901234567890".
    let key = b"12345678901234567890";
    for (time, want) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(totp_at(key, time, 8), want, "{time}");
    }
    assert_eq!(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), key.to_vec());
}

/// A developer's new app with `settings`, and its base path.
async fn app_with(t: &TestApp, settings: Value) -> (String, String) {
    let developer = t.developer(&unique_email("mfa-dev")).await;
    let id = t.create_app(&developer, settings).await;
    (developer, format!("/apps/{id}"))
}

/// A verified, signed-in user of the app under `base`: (email, access, refresh).
async fn user(t: &TestApp, base: &str) -> (String, String, String) {
    let email = unique_email("mfa");
    let (access, refresh) = t.logged_in_at(base, &email).await;
    (email, access, refresh)
}

/// A TOTP factor enrolled and confirmed with the session `access`: (factor id, secret, the
/// confirmation's answer).
async fn totp_factor(t: &TestApp, base: &str, access: &str) -> (String, String, TestResponse) {
    let r =
        t.post(&format!("{base}/api/v1/auth/mfa/totp"), json!({"name": "Phone"})).bearer(access).send().await;
    assert_eq!(r.status, 201, "enrol: {}", r.text);
    let factor = r.body["data"]["factor_id"].as_str().unwrap().to_owned();
    let secret = r.body["data"]["secret"].as_str().unwrap().to_owned();
    let confirm = t
        .post(&format!("{base}/api/v1/auth/mfa/totp/{factor}/confirm"), json!({"code": code(&secret, 0)}))
        .bearer(access)
        .send()
        .await;
    assert_eq!(confirm.status, 200, "confirm: {}", confirm.text);
    (factor, secret, confirm)
}

/// A confirmed TOTP factor of the verified user `email` of the app under `base`: its secret.
pub(crate) async fn enrolled_totp(t: &TestApp, base: &str, email: &str) -> String {
    let signed_in = login(t, base, email).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let access = signed_in.body["data"]["access_token"].as_str().expect("a one-factor sign-in").to_owned();
    totp_factor(t, base, &access).await.1
}

async fn login(t: &TestApp, base: &str, email: &str) -> TestResponse {
    t.post(&format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD})).send().await
}

async fn verify(t: &TestApp, base: &str, body: Value) -> TestResponse {
    t.post(&format!("{base}/api/v1/auth/mfa/verify"), body).send().await
}

async fn refresh(t: &TestApp, base: &str, refresh_token: &str) -> TestResponse {
    t.post(&format!("{base}/api/v1/auth/token/refresh"), json!({"refresh_token": refresh_token})).send().await
}
