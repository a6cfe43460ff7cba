//! The user's side of the app's OAuth provider at the token endpoint: the `authorization_code`
//! grant (single use, PKCE S256, exact `redirect_uri`; a code presented twice ends what it issued),
//! the `refresh_token` grant (rotation with reuse detection, as for the service's own sessions),
//! the ID token (OIDC Core 2), userinfo, and the user's list of connected apps.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use super::protocol::{self, AccessClaims, OAuthError, OAuthResult, TokenResponse};
use crate::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::{AppId, ClientId, UserId};
use crate::keys::{ID_TOKEN_TYPE, KeyRing};
use crate::model::{GrantType, OAuthClientRecord, OAuthGrantRecord, UserRecord};
use crate::store::{Redeemed, Written};
use crate::tenant::Tenant;
use crate::tokens::ACCESS_TOKEN_TYPE;

/// The `typ` of the provider's refresh tokens: their own kind, never taken for an access token or
/// for one of the service's session refresh tokens (whose audience differs too).
pub const REFRESH_TYPE: &str = "oauth-refresh+jwt";

/// The claims of a provider refresh token: the grant and the generation of its family.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub iss: String,
    pub aud: String,
    pub sub: UserId,
    pub client_id: ClientId,
    pub gid: String,
    pub generation: u64,
    pub tid: AppId,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

fn refresh_audience(tenant: &Tenant) -> String {
    format!("{}/oauth/token", tenant.issuer)
}

/// `grant_type=authorization_code` (RFC 6749 section 4.1.3, RFC 7636 section 4.6).
#[allow(clippy::too_many_arguments)]
pub async fn exchange_code(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    resource: Option<&str>,
    client_info: &ClientInfo,
) -> OAuthResult<TokenResponse> {
    if !client.settings.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(OAuthError::UnauthorizedClient("the client may not use authorization_code".into()));
    }
    let hash = crypto::token_hash(code);
    let invalid = || OAuthError::InvalidGrant("the code is invalid, expired or already used".into());
    // A code of another client is as unknown as a made-up one.
    let Some(record) =
        app.store.authorization_code(&tenant.id, &hash).await?.filter(|c| c.client_id == client.client_id)
    else {
        return Err(invalid());
    };
    let now = Utc::now();
    if record.redeemed_at.is_some() {
        code_reused(app, tenant, &record.user_id, &record.grant_id, &client.client_id, client_info).await?;
        return Err(invalid());
    }
    if record.expires_at <= now.timestamp() {
        return Err(invalid());
    }
    match redirect_uri {
        Some(uri) if uri == record.redirect_uri => {}
        Some(_) => {
            return Err(OAuthError::InvalidGrant(
                "redirect_uri differs from the authorization request".into(),
            ));
        }
        None => return Err(OAuthError::InvalidRequest("redirect_uri is required".into())),
    }
    match (&record.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => {
            if !pkce_matches(challenge, verifier) {
                return Err(OAuthError::InvalidGrant(
                    "code_verifier does not match the code_challenge".into(),
                ));
            }
        }
        (Some(_), None) => return Err(OAuthError::InvalidGrant("code_verifier is required".into())),
        // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 2.1.1).
        (None, Some(_)) => return Err(OAuthError::InvalidGrant("the code was issued without PKCE".into())),
        (None, None) => {}
    }
    let user = app
        .store
        .user(&tenant.id, &record.user_id)
        .await?
        .filter(|u| u.credential_version == record.credential_version)
        .ok_or_else(invalid)?;
    let aud = protocol::audience(tenant, resource)?;
    let ring = app.keys.ring().await?;
    let refresh_wanted = record.scopes.iter().any(|s| s == "offline_access")
        && client.settings.grant_types.contains(&GrantType::RefreshToken);
    let mut grant =
        new_grant(tenant, client, &record.user_id, &record.grant_id, &record.scopes, record.auth_time, now);
    grant.amr = record.amr.clone();
    grant.acr = record.acr;
    grant.credential_version = user.credential_version;
    let ends_at = grant_end(app, &grant);
    grant.expires_at = grant.expires_at.min(ends_at);
    grant.ttl = grant.expires_at;
    let nonce = record.nonce.as_deref();
    let issued = issue(&ring, tenant, client, &user, &grant, &aud, ends_at, refresh_wanted, nonce, now)?;
    grant.refresh_hash = issued.refresh_token.as_deref().map(crypto::token_hash);
    let details = audit::details([
        ("client_id", json!(client.client_id)),
        ("grant_type", json!("authorization_code")),
        ("scopes", json!(record.scopes)),
    ]);
    let event = audit::record(
        &app.config,
        &tenant.id,
        &record.user_id,
        EventType::OAuthTokenIssued,
        client_info,
        details,
        now,
    );
    match app.store.redeem_authorization_code(&hash, &grant, &event, now).await? {
        Redeemed::Done => Ok(issued),
        Redeemed::Refused => {
            // Lost a race with another exchange of the same code, or the user changed meanwhile.
            let again = app.store.authorization_code(&tenant.id, &hash).await?;
            if again.is_some_and(|c| c.redeemed_at.is_some()) {
                code_reused(app, tenant, &record.user_id, &record.grant_id, &client.client_id, client_info)
                    .await?;
            }
            Err(invalid())
        }
    }
}

/// A code came back after its redemption: whoever holds it now may not be the client it was
/// issued to, so the grant it created ends, and with it every token issued (RFC 6749 10.5).
async fn code_reused(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    grant_id: &str,
    client_id: &ClientId,
    client_info: &ClientInfo,
) -> Result<()> {
    // An erased account gets no new trail: its code only outlives it until the TTL.
    if app.store.user(&tenant.id, user_id).await?.is_none() {
        return app.store.delete_oauth_grant(&tenant.id, user_id, grant_id, None).await;
    }
    let details = audit::details([("client_id", json!(client_id))]);
    let event = audit::record(
        &app.config,
        &tenant.id,
        user_id,
        EventType::OAuthCodeReused,
        client_info,
        details,
        Utc::now(),
    );
    app.store.delete_oauth_grant(&tenant.id, user_id, grant_id, Some(&event)).await
}

/// RFC 7636 section 4.6: BASE64URL(SHA256(verifier)) equals the challenge; the verifier is 43 to
/// 128 unreserved characters.
fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = crypto::pkce_challenge(verifier);
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[allow(clippy::too_many_arguments)]
fn new_grant(
    tenant: &Tenant,
    client: &OAuthClientRecord,
    user_id: &UserId,
    grant_id: &str,
    scopes: &[String],
    auth_time: i64,
    now: DateTime<Utc>,
) -> OAuthGrantRecord {
    let expires_at = now.timestamp() + lifetime(tenant) as i64;
    OAuthGrantRecord {
        grant_id: grant_id.to_owned(),
        tenant_id: tenant.id.clone(),
        user_id: user_id.clone(),
        client_id: client.client_id.clone(),
        scopes: scopes.to_vec(),
        auth_time,
        amr: Vec::new(),
        acr: Default::default(),
        credential_version: 0,
        created_at: now,
        refresh_hash: None,
        generation: 1,
        prev_hash: None,
        rotated_at: None,
        expires_at,
        ttl: expires_at,
    }
}

/// How long a grant lives from its last issue: as long as the longest token it hands out.
fn lifetime(tenant: &Tenant) -> u64 {
    tenant.settings.refresh_token_ttl.as_secs().max(tenant.settings.access_token_ttl.as_secs())
}

/// The grant's absolute end (`OAUTH_GRANT_MAX_LIFETIME_SECONDS` from its consent), as a session
/// has one: a client that keeps refreshing must send the user back to consent by then.
fn grant_end(app: &App, grant: &OAuthGrantRecord) -> i64 {
    grant.created_at.timestamp() + app.config.oauth_grant_max_lifetime.as_secs() as i64
}

/// The tokens of one issue: an access token naming the grant; a refresh token of the grant's
/// current generation when asked for; an ID token when `openid` is granted.
#[allow(clippy::too_many_arguments)]
fn issue(
    ring: &KeyRing,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    user: &UserRecord,
    grant: &OAuthGrantRecord,
    aud: &str,
    ends_at: i64,
    refresh: bool,
    nonce: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TokenResponse> {
    let now_s = now.timestamp();
    // No token of the grant outlives the grant's absolute end.
    let access_exp = (now_s + tenant.settings.access_token_ttl.as_secs() as i64).min(ends_at);
    let ttl = access_exp.saturating_sub(now_s).max(0) as u64;
    let scope = grant.scopes.join(" ");
    let access = AccessClaims {
        iss: tenant.issuer.clone(),
        aud: aud.to_owned(),
        sub: user.user_id.to_string(),
        client_id: client.client_id.clone(),
        scope: scope.clone(),
        tid: tenant.id.clone(),
        gid: Some(grant.grant_id.clone()),
        jti: crypto::new_id(),
        iat: now_s,
        nbf: now_s,
        exp: access_exp,
    };
    let access_token = ring.sign(&access, ACCESS_TOKEN_TYPE)?;
    let refresh_token = if refresh {
        let claims = RefreshClaims {
            iss: tenant.issuer.clone(),
            aud: refresh_audience(tenant),
            sub: user.user_id.clone(),
            client_id: client.client_id.clone(),
            gid: grant.grant_id.clone(),
            generation: grant.generation,
            tid: tenant.id.clone(),
            jti: crypto::new_id(),
            iat: now_s,
            nbf: now_s,
            exp: (now_s + tenant.settings.refresh_token_ttl.as_secs() as i64).min(ends_at),
        };
        Some(ring.sign(&claims, REFRESH_TYPE)?)
    } else {
        None
    };
    let id_token = if grant.scopes.iter().any(|s| s == "openid") {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(tenant.issuer));
        claims.insert("sub".into(), json!(user.user_id));
        claims.insert("aud".into(), json!(client.client_id));
        claims.insert("azp".into(), json!(client.client_id));
        claims.insert("iat".into(), json!(now_s));
        claims.insert("exp".into(), json!(now_s + ttl as i64));
        claims.insert("auth_time".into(), json!(grant.auth_time));
        // How the user signed in and to which level (RFC 8176, NIST SP 800-63B's AAL).
        claims.insert("acr".into(), json!(grant.acr.as_str()));
        if !grant.amr.is_empty() {
            claims.insert("amr".into(), json!(grant.amr));
        }
        claims.insert("at_hash".into(), json!(at_hash(&access_token)?));
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        claims.extend(user_claims(user, &grant.scopes));
        Some(ring.sign(&Value::Object(claims), ID_TOKEN_TYPE)?)
    } else {
        None
    };
    Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: ttl, scope, refresh_token, id_token })
}

/// OIDC Core 3.1.3.6: the left half of the access token's hash, by the hash of the ID token's
/// algorithm (SHA-256 for RS256; SHA-512 for EdDSA with Ed25519).
fn at_hash(access_token: &str) -> Result<String> {
    let header = jsonwebtoken::decode_header(access_token)
        .map_err(|e| Error::Internal(format!("own token unreadable: {e}")))?;
    let algorithm = match header.alg {
        jsonwebtoken::Algorithm::EdDSA => &aws_lc_rs::digest::SHA512,
        _ => &aws_lc_rs::digest::SHA256,
    };
    let digest = aws_lc_rs::digest::digest(algorithm, access_token.as_bytes());
    let half = &digest.as_ref()[..digest.as_ref().len() / 2];
    Ok(URL_SAFE_NO_PAD.encode(half))
}

/// The claims of a user that the scopes open (OIDC Core 5.4): `email` the address and whether it
/// is verified, `profile` the names the user gave.
pub fn user_claims(user: &UserRecord, scopes: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    let has = |s: &str| scopes.iter().any(|g| g == s);
    if has("email") {
        out.insert("email".into(), json!(user.email));
        out.insert("email_verified".into(), json!(user.email_verified));
    }
    if has("profile") {
        let pairs = [
            ("name", &user.name),
            ("given_name", &user.first_name),
            ("family_name", &user.last_name),
            ("preferred_username", &user.username),
        ];
        for (claim, value) in pairs {
            if let Some(v) = value {
                out.insert(claim.into(), json!(v));
            }
        }
    }
    out
}

/// `grant_type=refresh_token` (RFC 6749 section 6): the presented token must be its grant's
/// current one. The one it just replaced, within the grace window, is a client's retry racing
/// itself (refused, grant kept); any older one means two parties hold the family, and the grant
/// ends with every token it issued.
#[allow(clippy::too_many_arguments)]
pub async fn refresh(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    refresh_token: &str,
    scope: Option<&str>,
    resource: Option<&str>,
    client_info: &ClientInfo,
) -> OAuthResult<TokenResponse> {
    if !client.settings.grant_types.contains(&GrantType::RefreshToken) {
        return Err(OAuthError::UnauthorizedClient("the client may not use refresh_token".into()));
    }
    let invalid = || OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked".into());
    let ring = app.keys.ring_for(crate::tokens::kid_of(refresh_token).as_deref()).await?;
    let claims = ring
        .verify::<RefreshClaims>(refresh_token, REFRESH_TYPE, &tenant.issuer, &refresh_audience(tenant))
        .filter(|c| c.tid == tenant.id && c.client_id == client.client_id)
        .ok_or_else(invalid)?;
    let Some(grant) = app.store.oauth_grant(&tenant.id, &claims.sub, &claims.gid).await? else {
        return Err(invalid());
    };
    let presented = crypto::token_hash(refresh_token);
    let same = |a: &str, b: &str| bool::from(a.as_bytes().ct_eq(b.as_bytes()));
    let now = Utc::now();
    let current = grant.refresh_hash.as_deref().is_some_and(|h| same(h, &presented))
        && grant.generation == claims.generation;
    if !current {
        let just_replaced = grant.generation == claims.generation + 1
            && grant.prev_hash.as_deref().is_some_and(|h| same(h, &presented))
            && grant.rotated_at.is_some_and(|at| {
                now.signed_duration_since(at).to_std().unwrap_or_default() <= app.config.refresh_reuse_grace
            });
        if !just_replaced && grant.generation > claims.generation {
            let details = audit::details([
                ("client_id", json!(client.client_id)),
                ("presented_generation", json!(claims.generation)),
                ("current_generation", json!(grant.generation)),
            ]);
            let event = audit::record(
                &app.config,
                &tenant.id,
                &claims.sub,
                EventType::RefreshReuseDetected,
                client_info,
                details,
                now,
            );
            app.store.delete_oauth_grant(&tenant.id, &claims.sub, &claims.gid, Some(&event)).await?;
        }
        return Err(invalid());
    }
    // A refresh may narrow the scopes, never widen them (RFC 6749 section 6).
    let scopes = match scope {
        None => grant.scopes.clone(),
        Some(words) => {
            let asked: Vec<String> = words.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
            if asked.is_empty() || asked.iter().any(|s| !grant.scopes.contains(s)) {
                return Err(OAuthError::InvalidScope("a refresh cannot add scopes to the grant".into()));
            }
            asked
        }
    };
    // A password reset or change since the grant ends it.
    let user = app
        .store
        .user(&tenant.id, &claims.sub)
        .await?
        .filter(|u| u.credential_version == grant.credential_version)
        .ok_or_else(invalid)?;
    // The grant's absolute end (as a session's): rotation never carries it past that.
    let ends_at = grant_end(app, &grant);
    if now.timestamp() >= ends_at {
        return Err(invalid());
    }
    let aud = protocol::audience(tenant, resource)?;
    let next = OAuthGrantRecord { generation: grant.generation + 1, scopes, ..grant.clone() };
    let issued = issue(&ring, tenant, client, &user, &next, &aud, ends_at, true, None, now)?;
    let new_hash = issued.refresh_token.as_deref().map(crypto::token_hash).unwrap_or_default();
    let details =
        audit::details([("client_id", json!(client.client_id)), ("grant_type", json!("refresh_token"))]);
    let event = audit::record(
        &app.config,
        &tenant.id,
        &claims.sub,
        EventType::OAuthTokenIssued,
        client_info,
        details,
        now,
    );
    let expires_at = (now.timestamp() + lifetime(tenant) as i64).min(ends_at);
    match app.store.rotate_oauth_grant(&grant, &presented, &new_hash, expires_at, &event, now).await? {
        Written::Done => Ok(issued),
        // Rotated by a concurrent refresh, revoked, or the user changed meanwhile.
        Written::ConditionFailed => Err(invalid()),
    }
}

/// Revokes a refresh token's grant (RFC 7009 section 2.1: revoking a refresh token ends its
/// grant's access tokens too). Anything that is not a live refresh token of `client` changes
/// nothing. Returns whether the token was one.
pub async fn revoke_refresh(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    token: &str,
) -> Result<bool> {
    let kid = crate::tokens::kid_of(token);
    let verifier = app.verifier(kid.as_deref()).await?;
    let Some(claims) = verifier
        .verify::<RefreshClaims>(token, REFRESH_TYPE, &tenant.issuer, &refresh_audience(tenant))
        .filter(|c| c.tid == tenant.id)
    else {
        return Ok(false);
    };
    if claims.client_id == client.client_id {
        app.store.delete_oauth_grant(&tenant.id, &claims.sub, &claims.gid, None).await?;
    }
    Ok(true)
}

/// A refresh token's introspection: live while it is its grant's current token.
pub async fn introspect_refresh(
    app: &App,
    tenant: &Tenant,
    token: &str,
) -> Result<Option<(RefreshClaims, Vec<String>)>> {
    let verifier = app.verifier(crate::tokens::kid_of(token).as_deref()).await?;
    let Some(claims) = verifier
        .verify::<RefreshClaims>(token, REFRESH_TYPE, &tenant.issuer, &refresh_audience(tenant))
        .filter(|c| c.tid == tenant.id)
    else {
        return Ok(None);
    };
    let grant = app.store.oauth_grant(&tenant.id, &claims.sub, &claims.gid).await?;
    let user = app.store.user(&tenant.id, &claims.sub).await?;
    // A deleted client's refresh tokens die with it.
    if app.store.oauth_client(&tenant.id, &claims.client_id).await?.is_none() {
        return Ok(None);
    }
    let live = grant.filter(|g| {
        g.generation == claims.generation
            && g.refresh_hash.as_deref() == Some(crypto::token_hash(token).as_str())
            && user.as_ref().is_some_and(|u| {
                u.status == crate::model::UserStatus::Active && u.credential_version == g.credential_version
            })
    });
    Ok(live.map(|g| (claims, g.scopes)))
}

/// OIDC userinfo (Core 5.3): `sub` and the claims the token's scopes open; only for a token
/// granted `openid`.
pub async fn userinfo(app: &App, tenant: &Tenant, token: &str) -> std::result::Result<Value, BearerError> {
    let Some((claims, user)) = protocol::verify_user_access(app, tenant, token).await? else {
        return Err(BearerError::InvalidToken);
    };
    let scopes: Vec<String> = claims.scope.split(' ').map(str::to_owned).collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(BearerError::InsufficientScope("openid"));
    }
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.user_id));
    out.extend(user_claims(&user, &scopes));
    Ok(Value::Object(out))
}

/// An error of a resource the provider's bearer tokens open (RFC 6750 section 3.1).
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// A request RFC 6750 refuses (section 3.1): the token sent twice, a form that cannot be read.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    #[error("the access token lacks the scope {0}")]
    InsufficientScope(&'static str),
    #[error("{0}")]
    Service(#[from] Error),
}

/// One app the user connected, as `GET /auth/consents` lists it.
#[derive(Debug, Serialize)]
pub struct ConnectedApp {
    pub client_id: ClientId,
    pub name: String,
    pub scopes: Vec<String>,
    pub granted_at: DateTime<Utc>,
}

/// The user's connected apps: each client with a consent (a client deleted since is left out).
pub async fn connected(app: &App, tenant: &Tenant, user_id: &UserId) -> Result<Vec<ConnectedApp>> {
    let mut out = Vec::new();
    for consent in app.store.consents(&tenant.id, user_id).await? {
        if let Some(client) = app.store.oauth_client(&tenant.id, &consent.client_id).await? {
            out.push(ConnectedApp {
                client_id: consent.client_id,
                name: client.settings.name,
                scopes: consent.scopes,
                granted_at: consent.granted_at,
            });
        }
    }
    Ok(out)
}

/// Revokes the user's consent to a client: its grants end, and with them every token they issued.
/// `NotFound` when the user has none with that client.
pub async fn disconnect(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    client_id: &ClientId,
    client_info: &ClientInfo,
) -> Result<()> {
    let details = audit::details([("client_id", json!(client_id))]);
    let event = audit::record(
        &app.config,
        &tenant.id,
        user_id,
        EventType::OAuthConsentRevoked,
        client_info,
        details,
        Utc::now(),
    );
    if app.store.revoke_consent(&tenant.id, user_id, client_id, &event).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", verifier));
        assert!(!pkce_matches(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"
        ));
        // Too short to be a verifier at all.
        assert!(!pkce_matches("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "short"));
    }
}
