//! The token side of the app's OAuth provider: client authentication (RFC 6749 section 2.3),
//! the `client_credentials` grant, RFC 9068 access tokens, introspection (RFC 7662) and
//! revocation (RFC 7009). Errors are RFC 6749's (`OAuthError`), rendered in one place by the
//! functions' OAuth edge.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::App;
use crate::audit::ClientInfo;
use crate::error::Error;
use crate::ids::{AppId, ClientId};
use crate::limits::Route;
use crate::model::{ClientType, GrantType, OAuthClientRecord};
use crate::tenant::Tenant;
use crate::tokens::ACCESS_TOKEN_TYPE;

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

/// How a client presented itself: HTTP Basic (`client_secret_basic`), the form
/// (`client_secret_post`), or only its id (a public client).
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
}

impl Presented {
    /// From the `Authorization: Basic` header (its parts form-urlencoded, RFC 6749 section 2.3.1)
    /// and the form's `client_id` and `client_secret`. Two methods at once are refused.
    pub fn read(
        authorization: Option<&str>,
        form_id: Option<&str>,
        form_secret: Option<&str>,
    ) -> OAuthResult<Presented> {
        use base64::Engine;
        let basic = authorization
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, v)| v.trim());
        match (basic, form_secret) {
            (Some(_), Some(_)) => {
                Err(OAuthError::InvalidRequest("more than one client authentication method".into()))
            }
            (Some(encoded), None) => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or(OAuthError::InvalidClient)?;
                let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
                // Each part is form-urlencoded (RFC 6749 section 2.3.1): `+` is a space.
                let unescape = |v: &str| {
                    percent_encoding::percent_decode_str(&v.replace('+', " "))
                        .decode_utf8()
                        .ok()
                        .map(|v| v.into_owned())
                };
                let (id, secret) = (unescape(id).ok_or(OAuthError::InvalidClient)?, unescape(secret));
                if form_id.is_some_and(|f| f != id) {
                    return Err(OAuthError::InvalidRequest(
                        "client_id differs from the authenticated client".into(),
                    ));
                }
                Ok(Presented { client_id: id, secret })
            }
            (None, secret) => {
                let id = form_id.ok_or(OAuthError::InvalidClient)?;
                Ok(Presented { client_id: id.to_owned(), secret: secret.map(str::to_owned) })
            }
        }
    }
}

/// The client a request authenticates as, at this app: a confidential client by its secret
/// (compared as SHA-256 digests in constant time), a public one by its id alone. Anything else is
/// `invalid_client`, whether the client is unknown, of another app, or its secret wrong.
pub async fn authenticate(
    app: &App,
    tenant: &Tenant,
    presented: &Presented,
) -> OAuthResult<OAuthClientRecord> {
    let client_id = ClientId::parse(&presented.client_id).ok_or(OAuthError::InvalidClient)?;
    let client = app.store.oauth_client(&tenant.id, &client_id).await?.ok_or(OAuthError::InvalidClient)?;
    match (client.client_type, &client.secret_hash, &presented.secret) {
        (ClientType::Confidential, Some(stored), Some(secret)) => {
            let given = crate::crypto::token_hash(secret);
            if bool::from(given.as_bytes().ct_eq(stored.as_bytes())) {
                Ok(client)
            } else {
                Err(OAuthError::InvalidClient)
            }
        }
        (ClientType::Public, _, None) => Ok(client),
        _ => Err(OAuthError::InvalidClient),
    }
}

/// One request against the per-address limit of the provider's endpoints, before anything else:
/// wrong secrets and unknown clients count too.
pub async fn limit(app: &App, tenant: &Tenant, client_info: &ClientInfo) -> OAuthResult<()> {
    crate::ratelimit::hit(app, &tenant.id, Route::OAuthToken, client_info, None).await?;
    Ok(())
}

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

/// The scopes a request asks for, checked against what the client may use: all of the client's
/// when it names none.
fn granted_scopes(client: &OAuthClientRecord, requested: Option<&str>) -> OAuthResult<Vec<String>> {
    match requested.map(str::split_whitespace) {
        None => Ok(client.settings.scopes.clone()),
        Some(words) => {
            let mut out: Vec<String> = Vec::new();
            for word in words {
                if !client.settings.scopes.iter().any(|s| s == word) {
                    return Err(OAuthError::InvalidScope(format!("the client may not ask for {word}")));
                }
                if !out.iter().any(|s| s == word) {
                    out.push(word.to_owned());
                }
            }
            if out.is_empty() { Ok(client.settings.scopes.clone()) } else { Ok(out) }
        }
    }
}

/// The `aud` of an access token a request asks for (RFC 8707 section 2.2): the `resource` it
/// names when the app registered it, else the provider's own `<issuer>/oauth`.
pub fn audience(tenant: &Tenant, resource: Option<&str>) -> OAuthResult<String> {
    let Some(raw) = resource else { return Ok(tenant.oauth_audience()) };
    let unknown = || OAuthError::InvalidTarget("the resource is not one the app registered".into());
    let named = crate::settings::resource(raw).map_err(|_| unknown())?;
    if tenant.settings.oauth_resources.contains(&named) { Ok(named) } else { Err(unknown()) }
}

/// `grant_type=client_credentials`: a confidential client acting for itself. Its token names the
/// client as `sub`; the scopes of a user (`openid`, `profile`, `email`, `offline_access`) mean
/// nothing without one and are not granted.
pub async fn client_credentials(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    scope: Option<&str>,
    resource: Option<&str>,
) -> OAuthResult<TokenResponse> {
    if client.client_type != ClientType::Confidential
        || !client.settings.grant_types.contains(&GrantType::ClientCredentials)
    {
        return Err(OAuthError::UnauthorizedClient("the client may not use client_credentials".into()));
    }
    let user_scopes = crate::settings::STANDARD_SCOPES.map(|(name, _)| name);
    let scopes: Vec<String> =
        granted_scopes(client, scope)?.into_iter().filter(|s| !user_scopes.contains(&s.as_str())).collect();
    if scope.is_some() && scopes.is_empty() {
        return Err(OAuthError::InvalidScope("client_credentials carries none of a user's scopes".into()));
    }
    let aud = audience(tenant, resource)?;
    let ring = app.keys.ring().await?;
    let now = Utc::now().timestamp();
    let ttl = tenant.settings.access_token_ttl.as_secs();
    let claims = AccessClaims {
        iss: tenant.issuer.clone(),
        aud,
        sub: client.client_id.to_string(),
        client_id: client.client_id.clone(),
        scope: scopes.join(" "),
        tid: tenant.id.clone(),
        gid: None,
        jti: crate::crypto::new_id(),
        iat: now,
        nbf: now,
        exp: now + ttl as i64,
    };
    let access_token = ring.sign(&claims, ACCESS_TOKEN_TYPE)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: claims.scope,
        refresh_token: None,
        id_token: None,
    })
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

/// RFC 7662's answer: `{active: false}` and nothing more for a token that is not live.
#[derive(Debug, Serialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<IntrospectionDetails>,
}

#[derive(Debug, Serialize)]
pub struct IntrospectionDetails {
    pub scope: String,
    pub client_id: ClientId,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    pub token_type: &'static str,
}

/// Introspects a token for an authenticated client of the app: about its own tokens only
/// (RFC 7662 section 4: a client must not learn what another client's token carries), unless
/// the app marked it `introspect_any` (a resource server of the app). Another client's token
/// answers as an unknown one does.
pub async fn introspect(
    app: &App,
    tenant: &Tenant,
    caller: &OAuthClientRecord,
    token: &str,
) -> OAuthResult<Introspection> {
    let seen = introspect_any_client(app, tenant, token).await?;
    let visible = seen
        .details
        .as_ref()
        .is_none_or(|d| caller.settings.introspect_any || d.client_id == caller.client_id);
    Ok(if visible { seen } else { Introspection::default() })
}

async fn introspect_any_client(app: &App, tenant: &Tenant, token: &str) -> OAuthResult<Introspection> {
    Ok(match verify_access(app, tenant, token).await? {
        None => match super::grants::introspect_refresh(app, tenant, token).await? {
            None => Introspection::default(),
            Some((c, scopes)) => Introspection {
                active: true,
                details: Some(IntrospectionDetails {
                    scope: scopes.join(" "),
                    client_id: c.client_id,
                    sub: c.sub.to_string(),
                    exp: c.exp,
                    iat: c.iat,
                    iss: c.iss,
                    aud: c.aud,
                    token_type: "refresh_token",
                }),
            },
        },
        Some(c) => Introspection {
            active: true,
            details: Some(IntrospectionDetails {
                scope: c.scope,
                client_id: c.client_id,
                sub: c.sub,
                exp: c.exp,
                iat: c.iat,
                iss: c.iss,
                aud: c.aud,
                token_type: "Bearer",
            }),
        },
    })
}

/// Revokes a token the authenticated client holds (RFC 7009): from the next request on it is
/// refused everywhere. A token that is not live, or another client's, changes nothing, and the
/// answer is the same either way.
pub async fn revoke(app: &App, tenant: &Tenant, client: &OAuthClientRecord, token: &str) -> OAuthResult<()> {
    if let Some(claims) = verify_access(app, tenant, token).await? {
        if claims.client_id == client.client_id {
            app.store.revoke_token_id(&tenant.id, &claims.jti, claims.exp).await?;
        }
        return Ok(());
    }
    super::grants::revoke_refresh(app, tenant, client, token).await?;
    Ok(())
}
