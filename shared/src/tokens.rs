//! Access and refresh tokens (JWTs) and the identity they prove.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::error::Result;
use crate::ids::{AppId, SessionId, UserId};
use crate::keys::{KeyRing, Verifier};
use crate::model::{Acr, Authn};
use crate::tenant::Tenant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenUse {
    Access,
    Refresh,
}

/// The claims of both token kinds. `token_use` is required, so a token without it never decodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: UserId,
    /// Tenant (app) id.
    pub tid: AppId,
    /// Session id.
    pub sid: SessionId,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    #[serde(default)]
    pub scope: String,
    pub token_use: TokenUse,
    #[serde(default)]
    pub email_verified: bool,
    /// Rotation generation of a refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// How the user signed in (RFC 8176 methods), the assurance level and when (OIDC's
    /// `auth_time`): a resource server can ask for `aal2` or a recent sign-in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Acr,
    #[serde(default)]
    pub auth_time: i64,
}

impl TokenUse {
    /// The header `typ` of each kind: access tokens are RFC 9068's `at+jwt`, refresh tokens a type
    /// of their own, so that a resource server that checks the type (as RFC 9068 asks) never takes
    /// a refresh token for an access token.
    pub fn typ(self) -> &'static str {
        match self {
            TokenUse::Access => ACCESS_TOKEN_TYPE,
            TokenUse::Refresh => REFRESH_TOKEN_TYPE,
        }
    }

    /// The audience of each kind: access tokens are for the app's API (`JWT_AUDIENCE` for
    /// `default`); refresh tokens only for the app's own refresh endpoint, so that a resource
    /// server that checks nothing but the signature and its audience refuses them too.
    pub fn audience(self, tenant: &Tenant) -> String {
        match self {
            TokenUse::Access => tenant.audience.clone(),
            TokenUse::Refresh => tenant.refresh_audience(),
        }
    }
}

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
pub const REFRESH_TOKEN_TYPE: &str = "refresh+jwt";

/// A freshly issued pair.
pub struct IssuedPair {
    pub access_token: String,
    pub access_expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// SHA-256 of the refresh token, for the session item.
    pub refresh_hash: String,
}

pub struct PairRequest<'a> {
    pub user_id: &'a UserId,
    pub session_id: &'a SessionId,
    pub email_verified: bool,
    pub generation: u64,
    pub now: DateTime<Utc>,
    /// The session's absolute end (epoch seconds): neither token outlives it.
    pub session_ends_at: i64,
    /// How the session's user last authenticated.
    pub authn: &'a Authn,
}

/// A pair for a session of `tenant`: its issuer, audiences and token lifetimes.
pub fn issue_pair(ring: &KeyRing, tenant: &Tenant, req: &PairRequest<'_>) -> Result<IssuedPair> {
    let now = req.now.timestamp();
    let access_ttl = tenant.settings.access_token_ttl.as_secs() as i64;
    let refresh_ttl = tenant.settings.refresh_token_ttl.as_secs() as i64;
    let base = |token_use: TokenUse, exp, generation| Claims {
        iss: tenant.issuer.clone(),
        aud: token_use.audience(tenant),
        sub: req.user_id.clone(),
        tid: tenant.id.clone(),
        sid: req.session_id.clone(),
        jti: crypto::new_id(),
        iat: now,
        nbf: now,
        exp,
        scope: tenant.settings.session_scopes.join(" "),
        token_use,
        email_verified: req.email_verified,
        generation,
        amr: req.authn.amr.clone(),
        acr: req.authn.acr,
        auth_time: req.authn.auth_time,
    };
    let access_exp = (now + access_ttl).min(req.session_ends_at);
    let access_token = ring.sign(&base(TokenUse::Access, access_exp, None), ACCESS_TOKEN_TYPE)?;
    let refresh_exp = (now + refresh_ttl).min(req.session_ends_at);
    let refresh_token =
        ring.sign(&base(TokenUse::Refresh, refresh_exp, Some(req.generation)), REFRESH_TOKEN_TYPE)?;
    let refresh_hash = crypto::token_hash(&refresh_token);
    Ok(IssuedPair {
        access_token,
        access_expires_in: (access_exp - now).max(0) as u64,
        refresh_token,
        refresh_expires_at: DateTime::from_timestamp(refresh_exp, 0).unwrap_or(req.now),
        refresh_hash,
    })
}

/// The tenant, user and session a token names, read WITHOUT checking anything: only to fetch the
/// session in the same read as the keys that will then check the token. Values that could not be
/// ours fail to parse as ids (see `ids`), so they never reach a key.
pub fn unverified_ids(token: &str) -> Option<(AppId, UserId, SessionId)> {
    #[derive(Deserialize)]
    struct Ids {
        tid: AppId,
        sub: UserId,
        sid: SessionId,
    }
    let ids: Ids = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    Some((ids.tid, ids.sub, ids.sid))
}

/// The `kid` a token's header names, if it has a readable header.
pub fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Verifies a token of the expected use; `None` for anything else (bad signature, wrong issuer,
/// audience or type, expired, unknown key, or a refresh token offered as an access token and the
/// reverse: they differ in `typ`, `aud` and `token_use`, and each is checked), and a token of
/// another app (its `iss`, `aud` and `tid` are each the app's own).
pub fn verify(keys: &Verifier, tenant: &Tenant, token: &str, expected: TokenUse) -> Option<Claims> {
    let claims: Claims = keys.verify(token, expected.typ(), &tenant.issuer, &expected.audience(tenant))?;
    (claims.token_use == expected && claims.tid == tenant.id).then_some(claims)
}

/// Who is calling a protected route: what the authorizer puts in its context, or what a function
/// that found no context verified itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub tenant_id: AppId,
    pub session_id: SessionId,
    pub scopes: Vec<String>,
    /// Epoch seconds at which the credential stops being valid.
    pub expires_at: i64,
    /// How and when the user last authenticated in the session.
    pub authn: Authn,
}

impl Identity {
    /// Whether the session's last authentication is at most `within` old: what a change of the
    /// account's factors asks for.
    pub fn signed_in_recently(&self, now: DateTime<Utc>, within: std::time::Duration) -> bool {
        let age = now.timestamp().saturating_sub(self.authn.auth_time);
        self.authn.auth_time > 0 && age >= -60 && age <= within.as_secs() as i64
    }
}
