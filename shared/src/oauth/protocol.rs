//! The OAuth protocol's own types, shared by every endpoint of the provider: its error document
//! (RFC 6749 section 5.2), the token response, the access token's claims (RFC 9068) and their
//! verification, and the audience a token is issued for (RFC 8707).

use crate::App;
use crate::error::Error;
use crate::ids::{AppId, ClientId};
use crate::tenant::Tenant;
use crate::tokens::ACCESS_TOKEN_TYPE;
use serde::{Deserialize, Serialize};

/// An error of the token, introspection and revocation endpoints (RFC 6749 section 5.2).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    /// Unknown client, wrong secret, or no authentication: 401 with `WWW-Authenticate: Basic`.
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("the grant type is not supported")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(String),
    /// A `resource` (RFC 8707) the app has not registered.
    #[error("{0}")]
    InvalidTarget(String),
    /// The service's own failure or limit (rate limit, a dependency down, a bug).
    #[error("{0}")]
    Service(#[from] Error),
}

impl OAuthError {
    /// RFC 6749's `error`.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::Service(Error::RateLimited { .. } | Error::Dependency { .. }) => {
                "temporarily_unavailable"
            }
            OAuthError::Service(
                Error::MalformedRequest(_)
                | Error::PayloadTooLarge
                | Error::UnsupportedMediaType
                | Error::Validation(_),
            ) => "invalid_request",
            OAuthError::Service(_) => "server_error",
        }
    }

    /// RFC 6749's `error_description`: never a secret, never a dependency's text.
    pub fn description(&self) -> String {
        match self {
            OAuthError::Service(e) => e.public_message(),
            other => other.to_string(),
        }
    }
}

pub type OAuthResult<T> = std::result::Result<T, OAuthError>;

/// The claims of an access token the provider issues (RFC 9068): `client_id` and `scope` always,
/// `sub` the user, or the client itself for `client_credentials`. It has no `token_use` and no
/// `sid`, so the service's own session routes never take it for one of their tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub client_id: ClientId,
    pub scope: String,
    /// The app (tenant).
    pub tid: AppId,
    /// The grant a user's token was issued under: the token lives only while the grant does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The answer of the token endpoint (RFC 6749 section 5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The `aud` of an access token a request asks for (RFC 8707 section 2.2): the `resource` it
/// names when the app registered it, else the provider's own `<issuer>/oauth`.
pub fn audience(tenant: &Tenant, resource: Option<&str>) -> OAuthResult<String> {
    let Some(raw) = resource else { return Ok(tenant.oauth_audience()) };
    let unknown = || OAuthError::InvalidTarget("the resource is not one the app registered".into());
    let named = crate::settings::resource(raw).map_err(|_| unknown())?;
    if tenant.settings.oauth_resources.contains(&named) { Ok(named) } else { Err(unknown()) }
}

/// An access token of this app's provider, verified: signature, type, issuer, audience, times,
/// not revoked, its client still registered and, for a user's token, its grant still live and its
/// user active. `None` for anything else (a session token of the service included).
pub async fn verify_access(
    app: &App,
    tenant: &Tenant,
    token: &str,
) -> crate::error::Result<Option<AccessClaims>> {
    Ok(verify_full(app, tenant, token).await?.map(|(claims, _)| claims))
}

/// `verify_access` for a token issued for a user, with the user.
pub async fn verify_user_access(
    app: &App,
    tenant: &Tenant,
    token: &str,
) -> crate::error::Result<Option<(AccessClaims, crate::model::UserRecord)>> {
    Ok(verify_full(app, tenant, token).await?.and_then(|(claims, user)| user.map(|u| (claims, u))))
}

async fn verify_full(
    app: &App,
    tenant: &Tenant,
    token: &str,
) -> crate::error::Result<Option<(AccessClaims, Option<crate::model::UserRecord>)>> {
    // The provider's own audience or a resource of the app: never a session token's.
    let own = tenant.oauth_audience();
    let audiences: Vec<&str> = std::iter::once(own.as_str())
        .chain(tenant.settings.oauth_resources.iter().map(String::as_str))
        .collect();
    let kid = crate::tokens::kid_of(token);
    let verifier = app.verifier(kid.as_deref()).await?;
    let Some(claims) =
        verifier.verify_for_any::<AccessClaims>(token, ACCESS_TOKEN_TYPE, &tenant.issuer, &audiences)
    else {
        return Ok(None);
    };
    if claims.tid != tenant.id {
        return Ok(None);
    }
    let user_id = match &claims.gid {
        Some(_) => match crate::ids::UserId::parse(&claims.sub) {
            Some(id) => Some(id),
            None => return Ok(None),
        },
        None => None,
    };
    let grant = user_id.as_ref().zip(claims.gid.as_deref());
    let state = app.store.oauth_token_state(&tenant.id, &claims.jti, &claims.client_id, grant).await?;
    // A deleted client's tokens die with it; a user's die with their grant (consent revoked, code
    // reused, refresh token reused) and while the user is not active.
    if state.revoked || state.client.is_none() {
        return Ok(None);
    }
    if grant.is_some() {
        // The user active, at the credential the grant was made with (a password reset or change
        // ends every grant).
        let Some(grant) = state.grant.filter(|g| g.client_id == claims.client_id) else { return Ok(None) };
        let user = state.user.filter(|u| {
            u.status == crate::model::UserStatus::Active && u.credential_version == grant.credential_version
        });
        return Ok(user.is_some().then_some((claims, user)));
    }
    Ok(Some((claims, None)))
}

/// Whether a bearer is shaped like one of the provider's access tokens (its unverified claims name
/// a `client_id`): only those are worth a verification and a revocation read.
pub fn looks_like_access(token: &str) -> bool {
    #[derive(Deserialize)]
    struct Shape {
        #[allow(dead_code)]
        client_id: String,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Shape>(token).is_ok()
}

/// The caller an access token of the app's provider stands for.
pub fn holder(claims: AccessClaims) -> crate::caller::OAuthHolder {
    // `sub` is the client itself for `client_credentials`, else the user.
    let user_id =
        (claims.sub != claims.client_id.as_str()).then(|| crate::ids::UserId::parse(&claims.sub)).flatten();
    crate::caller::OAuthHolder {
        tenant_id: claims.tid,
        client_id: claims.client_id,
        user_id,
        audience: claims.aud,
        scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
        expires_at: claims.exp,
    }
}
