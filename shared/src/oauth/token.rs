//! The token side of the app's OAuth provider: client authentication (RFC 6749 section 2.3),
//! the `client_credentials` grant, RFC 9068 access tokens, introspection (RFC 7662) and
//! revocation (RFC 7009). Errors are RFC 6749's (`OAuthError`), rendered in one place by the
//! functions' OAuth edge.

use super::protocol::{AccessClaims, OAuthError, OAuthResult, TokenResponse, audience, verify_access};
use chrono::Utc;

use serde::Serialize;

use subtle::ConstantTimeEq;

use crate::App;

use crate::audit::ClientInfo;

use crate::ids::ClientId;

use crate::limits::Route;

use crate::model::{ClientType, GrantType, OAuthClientRecord};

use crate::tenant::Tenant;

use crate::tokens::ACCESS_TOKEN_TYPE;

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
