//! Every key of the table, built in one place so that no two features invent different
//! spellings and no handler ever sees a key format.

use crate::ids::{AppId, KeyId, SessionId, UserId};

pub const PROFILE: &str = "PROFILE";
pub const EMAIL: &str = "EMAIL";
pub const TOKEN: &str = "TOKEN";
pub const SESSION_PREFIX: &str = "SESSION#";
/// `gsi1pk` of every account whose deletion is pending, across tenants.
pub const DELETION_INDEX: &str = "DELETION";
pub const DECOY: &str = "DECOY";
/// The public half of the signing keys: one ring signs for every app.
pub const PUBLIC_KEYS: (&str, &str) = ("SERVICE#KEYS", "PUBLIC");

/// `gsi1sk` of a pending deletion: due time first, so the purge reads the due ones in order.
pub fn deletion_due(at: chrono::DateTime<chrono::Utc>, tenant: &AppId, user_id: &UserId) -> String {
    format!("{}#{tenant}#{user_id}", at.format("%Y-%m-%dT%H:%M:%SZ"))
}

pub fn user(tenant: &AppId, user_id: &UserId) -> String {
    format!("T#{tenant}#USER#{user_id}")
}
/// The partition read when an address has no account, so that it costs the read a known one does.
pub fn decoy_user(tenant: &AppId) -> String {
    format!("T#{tenant}#USER#{DECOY}")
}
pub fn email(tenant: &AppId, normalized_email: &str) -> String {
    format!("T#{tenant}#EMAIL#{normalized_email}")
}
pub fn token(tenant: &AppId, token_hash: &str) -> String {
    format!("T#{tenant}#TOKEN#{token_hash}")
}
pub fn session(session_id: &SessionId) -> String {
    format!("{SESSION_PREFIX}{session_id}")
}
pub fn audit(tenant: &AppId, user_id: &UserId) -> String {
    format!("T#{tenant}#AUDIT#{user_id}")
}
pub fn audit_event(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}
pub fn outbox(tenant: &AppId, id: &str) -> String {
    format!("T#{tenant}#OUTBOX#{id}")
}
pub const MAIL: &str = "MAIL";

/// A rate-limit counter: per route, kind (`ip`, `account`) and subject, one item per window.
pub fn rate_limit(tenant: &AppId, route: &str, kind: &str, subject: &str) -> String {
    format!("T#{tenant}#RL#{route}#{kind}#{subject}")
}
/// An account's consecutive failed password checks (per normalised email, known or not).
pub fn failures(tenant: &AppId, normalized_email: &str) -> String {
    format!("T#{tenant}#FAILS#{normalized_email}")
}
/// The sort key of a counter's window (`W#0` for counters without one).
pub fn counter_window(window: i64) -> String {
    format!("W#{window}")
}
/// An item written only so that an unknown address costs the same write as a known one.
pub fn decoy(tenant: &AppId, random: &str) -> String {
    format!("T#{tenant}#{DECOY}#{random}")
}

/// An app's item (and, after its deletion, its tombstone).
pub fn app(app_id: &AppId) -> String {
    format!("APP#{app_id}")
}
pub const APP: &str = "APP";
/// A developer's partition: one reference per owned app and the count the app limit checks.
pub fn developer(owner: &UserId) -> String {
    format!("DEV#{owner}")
}
pub const OWNED_APP_PREFIX: &str = "APP#";
pub fn owned_app(app_id: &AppId) -> String {
    format!("{OWNED_APP_PREFIX}{app_id}")
}
pub const OWNED_APPS_COUNT: &str = "COUNT";

/// An app's secret key in its owner's list, under the app's item.
pub const SECRET_KEY_PREFIX: &str = "SECRET#";
pub fn secret_key(key_id: &KeyId) -> String {
    format!("{SECRET_KEY_PREFIX}{key_id}")
}
/// The look-up of a presented secret key by its SHA-256: which app and key it is.
pub fn secret_key_lookup(hash: &str) -> String {
    format!("SECRETKEY#{hash}")
}
pub const SECRET_KEY: &str = "SECRETKEY";

/// `gsi2pk` of an app's users: the management API lists them by creation time.
pub fn app_users(tenant: &AppId) -> String {
    format!("T#{tenant}#USERS")
}
/// `gsi2sk` of a user: creation time first, so that the newest come first in reverse.
pub fn user_created(created_at: chrono::DateTime<chrono::Utc>, user_id: &UserId) -> String {
    format!("{}#{user_id}", created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
}
/// `gsi2pk` of an app's audit events (their `gsi2sk` is the event id, a UUID v7: time order).
pub fn app_audit(tenant: &AppId) -> String {
    format!("T#{tenant}#AUDIT")
}

/// `gsi1pk` of the tombstones of deleted apps whose data is still being erased.
pub const APP_ERASURE_INDEX: &str = "APP_ERASURE";

/// An end-user's API key: found by its id (the raw key names it) within the route's app.
pub fn api_key(tenant: &AppId, key_id: &KeyId) -> String {
    format!("T#{tenant}#APIKEY#{key_id}")
}
pub const API_KEY: &str = "APIKEY";
/// A key's entry in its owner's partition (`user`).
pub const API_KEY_REF_PREFIX: &str = "APIKEY#";
pub fn api_key_ref(key_id: &KeyId) -> String {
    format!("{API_KEY_REF_PREFIX}{key_id}")
}

/// A started social sign-in, by its state's SHA-256 (single use, 10 minutes).
pub fn oauth_state(tenant: &AppId, state_hash: &str) -> String {
    format!("T#{tenant}#OSTATE#{state_hash}")
}
pub const OAUTH_STATE: &str = "OSTATE";
/// A one-time code of a social sign-in's redirect, by its SHA-256 (single use, 60 seconds).
pub fn oauth_code(tenant: &AppId, code_hash: &str) -> String {
    format!("T#{tenant}#OCODE#{code_hash}")
}
pub const OAUTH_CODE: &str = "OCODE";
/// A social identity: (provider, the provider's subject), the subject as its SHA-256 (a subject is
/// the provider's string, of any shape).
pub fn identity(tenant: &AppId, provider: &str, subject_hash: &str) -> String {
    format!("T#{tenant}#IDENTITY#{provider}#{subject_hash}")
}
pub const IDENTITY: &str = "IDENTITY";
/// An identity's entry in its user's partition.
pub const IDENTITY_REF_PREFIX: &str = "IDENTITY#";
pub fn identity_ref(provider: &str) -> String {
    format!("{IDENTITY_REF_PREFIX}{provider}")
}
/// An identity provider an app configured, under the app's item.
pub const PROVIDER_PREFIX: &str = "PROVIDER#";
pub fn provider(provider: &str) -> String {
    format!("{PROVIDER_PREFIX}{provider}")
}
/// An OAuth client, under its app's item: found by (app, client id), so a client of one app is
/// simply not found at another.
pub const OAUTH_CLIENT_PREFIX: &str = "OCLIENT#";
pub fn oauth_client(client_id: &crate::ids::ClientId) -> String {
    format!("{OAUTH_CLIENT_PREFIX}{client_id}")
}
/// A revoked access token of the app's OAuth provider, by its `jti`, until it would have expired.
pub fn revoked_token(tenant: &AppId, jti: &str) -> String {
    format!("T#{tenant}#REVOKED#{jti}")
}
pub const REVOKED: &str = "REVOKED";
/// A grant of the app's OAuth provider, in its user's partition (`user`).
pub const OAUTH_GRANT_PREFIX: &str = "GRANT#";
pub fn oauth_grant(grant_id: &str) -> String {
    format!("{OAUTH_GRANT_PREFIX}{grant_id}")
}
/// A user's consent to one client, in the user's partition (`user`).
pub const CONSENT_PREFIX: &str = "CONSENT#";
pub fn consent(client_id: &crate::ids::ClientId) -> String {
    format!("{CONSENT_PREFIX}{client_id}")
}
/// An authorization code of the app's OAuth provider, by its SHA-256 (10 minutes).
pub fn authorization_code(tenant: &AppId, code_hash: &str) -> String {
    format!("T#{tenant}#AUTHZCODE#{code_hash}")
}
pub const AUTHORIZATION_CODE: &str = "AUTHZCODE";
/// The provider's browser session, by the SHA-256 of its cookie.
pub fn browser_session(tenant: &AppId, cookie_hash: &str) -> String {
    format!("T#{tenant}#OPSESSION#{cookie_hash}")
}
pub const BROWSER_SESSION: &str = "OPSESSION";
/// A browser session's entry in its user's partition (`user`), so that signing out everywhere,
/// a password reset and the erasure find it.
pub const BROWSER_SESSION_REF_PREFIX: &str = "OPSESSION#";
pub fn browser_session_ref(cookie_hash: &str) -> String {
    format!("{BROWSER_SESSION_REF_PREFIX}{cookie_hash}")
}

/// A user's second factor, in the user's partition (`user`).
pub const FACTOR_PREFIX: &str = "FACTOR#";
pub fn factor(factor_id: &crate::ids::FactorId) -> String {
    format!("{FACTOR_PREFIX}{factor_id}")
}
/// A user's recovery codes, in the user's partition.
pub const RECOVERY_CODES: &str = "RECOVERY_CODES";
/// A sign-in waiting for its second factor, by the SHA-256 of its `mfa_token`, in the user's
/// partition: the sign-in's one read of the partition finds it with the factors it needs.
pub const MFA_TOKEN_PREFIX: &str = "MFATOKEN#";
pub fn mfa_token(token_hash: &str) -> String {
    format!("{MFA_TOKEN_PREFIX}{token_hash}")
}
/// Wrong second-factor codes, per user or per `mfa_token`, one item per five-minute window.
pub fn mfa_failures(tenant: &AppId, kind: &str, subject: &str) -> String {
    format!("T#{tenant}#MFAFAILS#{kind}#{subject}")
}
