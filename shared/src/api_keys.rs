//! End-users' API keys (contract: "End-user API keys"): `ak_<key id>_<secret>`, made, listed,
//! rotated and revoked by the user's own sessions, and verified in one read by key id.
//!
//! The secret is 256 bits from the OS random source. It is stored only as its SHA-256: a secret of
//! that strength needs no slow hash (nothing can be guessed), and the authorizer must verify it
//! on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::caller::KeyHolder;
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::{AppId, KeyId, UserId};
use crate::limits::Route;
use crate::model::{ApiKeyRecord, UserStatus};
use crate::store::KeyCreated;
use crate::tenant::Tenant;

/// What makes an API key recognisable (in logs, in code review, to secret scanners).
pub const API_KEY_PREFIX: &str = "ak_";
/// How many characters of a raw key are kept to tell keys apart (`ak_` and part of the id).
const DISPLAY_PREFIX_CHARS: usize = 12;
/// The longest rotation grace, during which the old secret keeps working.
pub const MAX_GRACE_SECONDS: u64 = 86_400;
/// `last_used_at` is written at most this often per key (and per container).
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);
/// TTL tidies a key up this long after its expiry (its expiry, not TTL, refuses it).
const TTL_AFTER_EXPIRY_SECONDS: i64 = 86_400;
/// Tries of a creation that races another change of the user's keys.
const CREATE_ATTEMPTS: usize = 3;

/// A key as lists show it: never the secret.
#[derive(Debug, Serialize)]
pub struct ApiKeyView {
    pub id: KeyId,
    pub label: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for ApiKeyView {
    fn from(k: ApiKeyRecord) -> Self {
        ApiKeyView {
            id: k.key_id,
            label: k.label,
            prefix: k.prefix,
            scopes: k.scopes,
            created_at: k.created_at,
            expires_at: DateTime::from_timestamp(k.expires_at, 0).unwrap_or_default(),
            last_used_at: k.last_used_at,
        }
    }
}

/// A new key with its raw form: the only answer that ever shows it.
#[derive(Debug, Serialize)]
pub struct NewApiKey {
    pub api_key: ApiKeyView,
    pub raw_key: String,
}

/// A rotated key with its new raw form.
#[derive(Debug, Serialize)]
pub struct RotatedApiKey {
    pub api_key: ApiKeyView,
    pub new_raw_key: String,
}

/// What a user asks for, as the edge parsed it.
#[derive(Debug)]
pub struct KeyRequest {
    pub label: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The key id and secret of a presented `ak_<key id>_<secret>`; `None` for anything else.
pub fn parse_raw(raw: &str) -> Option<(KeyId, &str)> {
    let (id, secret) = raw.strip_prefix(API_KEY_PREFIX)?.split_once('_')?;
    // base64url of 32 bytes: 43 characters; anything else cannot be a key of ours.
    let plausible =
        secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    Some((KeyId::parse_api_key_id(id)?, secret)).filter(|_| plausible)
}

/// A fresh secret for a key: the raw key, its SHA-256 and its display prefix.
fn new_secret(key_id: &KeyId) -> (String, String, String) {
    let (secret, _) = crypto::new_token();
    let raw = format!("{API_KEY_PREFIX}{key_id}_{secret}");
    let hash = crypto::token_hash(&secret);
    let prefix = raw.chars().take(DISPLAY_PREFIX_CHARS).collect();
    (raw, hash, prefix)
}

/// The checks of a request's scopes and expiry against the app's settings and the deployment's
/// longest lifetime; the expiry the key gets.
pub fn check_request(
    tenant: &Tenant,
    max_ttl: Duration,
    request: &KeyRequest,
    now: DateTime<Utc>,
) -> std::result::Result<i64, crate::error::FieldErrors> {
    let mut errors = crate::error::FieldErrors::new();
    if request.scopes.iter().any(|s| !tenant.settings.api_key_scopes.contains(s)) {
        errors.insert("scopes".into(), vec!["not_allowed".into()]);
    }
    let latest = now + chrono::Duration::from_std(max_ttl).unwrap_or(chrono::Duration::days(365));
    let expires_at = match request.expires_at {
        None => latest.timestamp(),
        Some(at) if at <= now => {
            errors.insert("expires_at".into(), vec!["must_be_in_the_future".into()]);
            0
        }
        Some(at) if at > latest => {
            errors.insert("expires_at".into(), vec!["beyond_max_lifetime".into()]);
            0
        }
        Some(at) => at.timestamp(),
    };
    if errors.is_empty() { Ok(expires_at) } else { Err(errors) }
}

/// Makes a key for the user: at most `MAX_API_KEYS_PER_USER` live ones, counted and written under
/// the user's key version, so that two concurrent creations cannot both take the last place.
pub async fn create(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    request: KeyRequest,
    client: &ClientInfo,
) -> Result<NewApiKey> {
    crate::ratelimit::hit(app, &tenant.id, Route::ApiKeys, client, Some(user_id.as_str())).await?;
    let now = Utc::now();
    let expires_at =
        check_request(tenant, app.config.api_key_max_ttl, &request, now).map_err(Error::Validation)?;
    for _ in 0..CREATE_ATTEMPTS {
        let (user, refs) = app.store.api_keys_state(&tenant.id, user_id).await?.ok_or(Error::Unauthorized)?;
        if user.status != UserStatus::Active {
            return Err(Error::Unauthorized);
        }
        let live = refs.iter().filter(|r| r.expires_at > now.timestamp()).count();
        if live >= app.config.max_api_keys_per_user as usize {
            return Err(Error::Conflict);
        }
        let key_id = KeyId::for_api_key();
        let (raw_key, hash, prefix) = new_secret(&key_id);
        let record = ApiKeyRecord {
            key_id,
            tenant_id: tenant.id.clone(),
            user_id: user_id.clone(),
            label: request.label.clone(),
            prefix,
            scopes: request.scopes.clone(),
            hash,
            previous_hash: None,
            previous_valid_until: None,
            owner_status: UserStatus::Active,
            created_at: now,
            expires_at,
            last_used_at: None,
            rotated_at: None,
            ttl: expires_at + TTL_AFTER_EXPIRY_SECONDS,
        };
        if app.store.create_api_key(&record, user.api_keys_version).await? == KeyCreated::Done {
            trail(app, &tenant.id, user_id, EventType::ApiKeyCreated, &record, client).await;
            return Ok(NewApiKey { api_key: record.into(), raw_key });
        }
    }
    // The user's keys kept changing under us: let the client try again.
    Err(Error::Conflict)
}

/// The user's live keys, oldest first.
pub async fn list(app: &App, tenant: &AppId, user_id: &UserId) -> Result<Vec<ApiKeyView>> {
    let now = Utc::now().timestamp();
    let keys = app.store.api_keys(tenant, user_id).await?;
    Ok(keys.into_iter().filter(|k| k.expires_at > now).map(ApiKeyView::from).collect())
}

/// Revokes one of the user's keys: dead for the next request. Another user's key is 404.
pub async fn revoke(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    key_id: &KeyId,
    client: &ClientInfo,
) -> Result<()> {
    // Limited like creation: each revocation also delays any status change of the user racing it.
    crate::ratelimit::hit(app, tenant, Route::ApiKeys, client, Some(user_id.as_str())).await?;
    let key = own_key(app, tenant, user_id, key_id).await?;
    if !app.store.revoke_api_key(tenant, user_id, key_id).await? {
        return Err(Error::NotFound);
    }
    trail(app, tenant, user_id, EventType::ApiKeyRevoked, &key, client).await;
    Ok(())
}

/// Gives one of the user's keys a new secret; the old one keeps working for `grace` (none: it is
/// dead at once). Id, label, scopes and expiry stay.
pub async fn rotate(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    key_id: &KeyId,
    grace: Duration,
    client: &ClientInfo,
) -> Result<RotatedApiKey> {
    crate::ratelimit::hit(app, tenant, Route::ApiKeys, client, Some(user_id.as_str())).await?;
    let key = own_key(app, tenant, user_id, key_id).await?;
    let now = Utc::now();
    let (new_raw_key, hash, prefix) = new_secret(key_id);
    let grace_until = (!grace.is_zero()).then(|| now.timestamp() + grace.as_secs() as i64);
    if !app.store.rotate_api_key(&key, &hash, &prefix, grace_until, now).await? {
        // Revoked or rotated by a concurrent request.
        return Err(Error::Conflict);
    }
    trail(app, tenant, user_id, EventType::ApiKeyRotated, &key, client).await;
    let rotated = ApiKeyRecord { hash, prefix, rotated_at: Some(now), ..key };
    Ok(RotatedApiKey { api_key: rotated.into(), new_raw_key })
}

/// A live key of the user; any other (someone else's, expired, unknown) is 404.
async fn own_key(app: &App, tenant: &AppId, user_id: &UserId, key_id: &KeyId) -> Result<ApiKeyRecord> {
    let key = app.store.api_key(tenant, key_id).await?;
    key.filter(|k| k.user_id == *user_id && k.expires_at > Utc::now().timestamp()).ok_or(Error::NotFound)
}

/// Verifies a presented API key at a route of `tenant`: one read by key id (within the app, so a
/// key of another app is not found), the secret's hash compared in constant time with the current
/// one or, during a rotation's grace, the previous one, then expiry and the owner's state as the
/// key item carries it. Anything that fails is 401, never more detail. `in_use`: the route takes
/// API keys, so this is a use of the key (`last_used_at`), not a key shown to a route that will
/// refuse it.
pub async fn authenticate(app: &App, tenant: &Tenant, raw: &str, in_use: bool) -> Result<KeyHolder> {
    let (key_id, secret) = parse_raw(raw).ok_or(Error::Unauthorized)?;
    let key = app.store.api_key(&tenant.id, &key_id).await?.ok_or(Error::Unauthorized)?;
    let now = Utc::now();
    let presented = crypto::token_hash(secret);
    let current: bool = presented.as_bytes().ct_eq(key.hash.as_bytes()).into();
    let previous = || match (&key.previous_hash, key.previous_valid_until) {
        (Some(hash), Some(until)) if until > now.timestamp() => {
            presented.as_bytes().ct_eq(hash.as_bytes()).into()
        }
        _ => false,
    };
    if !(current || previous()) || key.expires_at <= now.timestamp() || key.owner_status != UserStatus::Active
    {
        return Err(Error::Unauthorized);
    }
    if in_use {
        note_use(app, &key, now).await;
    }
    Ok(KeyHolder {
        user_id: key.user_id,
        tenant_id: key.tenant_id,
        key_id: key.key_id,
        scopes: key.scopes,
        expires_at: key.expires_at,
    })
}

/// Writes `last_used_at` when it is older than a minute and this container has not written it in
/// the last minute: a busy key costs one write a minute, not one per request. A failed write is
/// logged and never fails the request.
async fn note_use(app: &App, key: &ApiKeyRecord, now: DateTime<Utc>) {
    // Whoever verifies keys writes this once a minute: recorded here, so that every such
    // function's policy is held to it even where the suite's minute had no write.
    crate::iam::need("dynamodb:UpdateItem", crate::iam::resource::TABLE);
    static WRITTEN: Mutex<Option<HashMap<KeyId, Instant>>> = Mutex::new(None);
    let resolution = chrono::Duration::from_std(LAST_USED_RESOLUTION).unwrap_or_default();
    if key.last_used_at.is_some_and(|at| now - at < resolution) {
        return;
    }
    {
        let mut written = WRITTEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = written.get_or_insert_with(HashMap::new);
        let instant = Instant::now();
        if written.get(&key.key_id).is_some_and(|at| instant.duration_since(*at) < LAST_USED_RESOLUTION) {
            return;
        }
        // A container serves one request at a time, but stays small however many keys it sees.
        written.retain(|_, at| instant.duration_since(*at) < LAST_USED_RESOLUTION);
        written.insert(key.key_id.clone(), instant);
    }
    if let Err(e) = app.store.touch_api_key(&key.tenant_id, &key.key_id, now).await {
        tracing::warn!(error = %e, key_id = %key.key_id, "could not record the key's last use");
    }
}

async fn trail(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    event: EventType,
    key: &ApiKeyRecord,
    client: &ClientInfo,
) {
    let details = audit::details([("key_id", json!(key.key_id)), ("label", json!(key.label))]);
    let record = audit::record(&app.config, tenant, user_id, event, client, details, Utc::now());
    app.store.put_audit_or_log(&record).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_keys_parse_only_in_their_one_shape() {
        let id = KeyId::for_api_key();
        let (raw, hash, prefix) = new_secret(&id);
        let (parsed, secret) = parse_raw(&raw).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(crypto::token_hash(secret), hash);
        assert!(
            raw.starts_with(&prefix) && prefix.starts_with("ak_") && prefix.len() == DISPLAY_PREFIX_CHARS
        );
        for bad in [
            "",
            "ak_",
            "ak_x_",
            "ak__",
            "sk_abc",
            &format!("ak_{id}_"),
            &format!("ak_{id}_short"),
            &"a".repeat(10_000),
        ] {
            assert!(parse_raw(bad).is_none(), "{bad:.40}");
        }
        // A secret may itself hold `_` (base64url): only the first one separates.
        let underscored = format!("ak_{id}_{}", "_".repeat(43));
        assert_eq!(parse_raw(&underscored).map(|(_, s)| s.len()), Some(43));
    }
}
