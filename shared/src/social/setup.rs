//! The providers of an app as a sign-in uses them: the built-in defaults and the console's own
//! credentials, where each secret is (Apple's signed as a JWT), and the `oauth2` client they make.

use super::oidc;
use crate::App;
use crate::config::SocialConfig;
use crate::error::Error;
use crate::error::Result;
use crate::ids::AppId;
use crate::model::ProviderId;
use crate::tenant::Tenant;
use chrono::Utc;
use oauth2::AuthUrl;
use oauth2::ClientId;
use oauth2::ClientSecret;
use oauth2::EndpointNotSet;
use oauth2::EndpointSet;
use oauth2::ExtraTokenFields;
use oauth2::RedirectUrl;
use oauth2::StandardRevocableToken;
use oauth2::StandardTokenResponse;
use oauth2::TokenUrl;
use oauth2::basic::BasicErrorResponse;
use oauth2::basic::BasicRevocationErrorResponse;
use oauth2::basic::BasicTokenIntrospectionResponse;
use oauth2::basic::BasicTokenType;
use serde::Deserialize;
use serde::Serialize;
use serde_json::json;

/// One provider of one app, as a sign-in uses it: the client id, the audiences its ID tokens may
/// carry, and where its secret is (read only when a code is exchanged).
pub struct Setup {
    pub provider: ProviderId,
    pub client_id: String,
    pub extra_client_ids: Vec<String>,
    secret: SecretSource,
}

pub(super) enum SecretSource {
    /// The `default` app's: in the deployment's social secret (`SOCIAL_SECRET_ID`), Apple's team
    /// and key id in the environment.
    Deployment,
    /// An app's own, configured through the console: sealed in its provider item.
    Sealed { sealed: String, team_id: Option<String>, key_id: Option<String> },
}

impl Setup {
    /// The audiences an ID token of this provider may name: the client id, then the extra ones.
    pub(super) fn audiences(&self) -> Vec<&str> {
        std::iter::once(self.client_id.as_str())
            .chain(self.extra_client_ids.iter().map(String::as_str))
            .collect()
    }
}

/// What an app's provider secret is sealed to: the app and the provider, so that a ciphertext
/// copied into another app's or provider's item does not open.
pub fn sealing_context(app_id: &AppId, provider: ProviderId) -> [(&'static str, &str); 3] {
    [("purpose", "provider-secret"), ("tenant", app_id.as_str()), ("provider", provider.as_str())]
}

/// The providers an app has configured, as sign-ins use them: for `default`, those with a client
/// id in the environment; for a created app, those its owner configured in the console.
pub(super) async fn setups(app: &App, tenant: &Tenant) -> Result<Vec<Setup>> {
    if tenant.id.is_default() {
        return Ok(default_setups(&app.config.social));
    }
    if tenant.id == AppId::console() {
        return Ok(Vec::new());
    }
    let mut records = app.store.providers(&tenant.id).await?;
    records.sort_by_key(|r| ProviderId::ALL.iter().position(|p| *p == r.provider));
    Ok(records
        .into_iter()
        .map(|r| Setup {
            provider: r.provider,
            client_id: r.client_id,
            extra_client_ids: r.extra_client_ids,
            secret: SecretSource::Sealed { sealed: r.sealed_secret, team_id: r.team_id, key_id: r.key_id },
        })
        .collect())
}

pub(super) fn default_setups(s: &SocialConfig) -> Vec<Setup> {
    let apple_ready = s.apple_team_id.is_some() && s.apple_key_id.is_some();
    [
        (ProviderId::Google, s.google_client_id.as_ref(), &s.google_extra_client_ids[..]),
        (
            ProviderId::Apple,
            s.apple_client_id.as_ref().filter(|_| apple_ready),
            &s.apple_extra_client_ids[..],
        ),
        (ProviderId::GitHub, s.github_client_id.as_ref(), &[][..]),
    ]
    .into_iter()
    .filter_map(|(provider, id, extra)| {
        id.map(|id| Setup {
            provider,
            client_id: id.clone(),
            extra_client_ids: extra.to_vec(),
            secret: SecretSource::Deployment,
        })
    })
    .collect()
}

/// The providers an app has configured (`GET /auth/oauth/providers`).
pub async fn configured(app: &App, tenant: &Tenant) -> Result<Vec<ProviderId>> {
    Ok(setups(app, tenant).await?.into_iter().map(|s| s.provider).collect())
}

/// One provider of the app; 404 when the app has not configured it.
pub(super) async fn setup(app: &App, tenant: &Tenant, provider: ProviderId) -> Result<Setup> {
    setups(app, tenant).await?.into_iter().find(|s| s.provider == provider).ok_or(Error::NotFound)
}

/// The secrets of the `default` app's providers (`SOCIAL_SECRET_ID`, a JSON object), read once per
/// container.
#[derive(Deserialize, Default)]
pub(super) struct DefaultSecrets {
    #[serde(default)]
    pub(super) google_client_secret: Option<String>,
    #[serde(default)]
    pub(super) github_client_secret: Option<String>,
    /// Apple's signing key (PKCS#8 PEM, P-256), from which each client secret is made.
    #[serde(default)]
    pub(super) apple_private_key: Option<String>,
}

/// How long an Apple client secret the service signs is valid (Apple allows up to six months; one
/// made per exchange needs minutes).
pub(super) const APPLE_SECRET_LIFETIME_SECONDS: i64 = 300;

/// Apple's signing key, as the console takes it: a PKCS#8 PEM P-256 key (Apple's `.p8` file).
pub fn apple_key_is_usable(pem: &str) -> bool {
    jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).is_ok_and(|key| {
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        jsonwebtoken::encode(&header, &json!({}), &key).is_ok()
    })
}

/// Apple's client secret: an ES256 JWT signed with the app's key, issuer the team id, subject the
/// client id, audience Apple's issuer.
pub(super) fn apple_client_secret(
    config: &SocialConfig,
    team: &str,
    key_id: &str,
    client_id: &str,
    pem: &str,
) -> Result<String> {
    let bad = || Error::Internal("the Apple team id, key id or key is not usable".into());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| bad())?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key_id.to_owned());
    let now = Utc::now().timestamp();
    let claims = json!({"iss": team, "iat": now, "exp": now + APPLE_SECRET_LIFETIME_SECONDS,
                        "aud": config.apple_issuer, "sub": client_id});
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| bad())
}

/// The client secret of a code exchange: the deployment's (default app) or the app's, opened from
/// its seal; for Apple, a JWT signed with the key.
pub(super) async fn client_secret(
    app: &App,
    tenant: &Tenant,
    setup: &Setup,
) -> Result<secrecy::SecretString> {
    use secrecy::ExposeSecret;
    let s = &app.config.social;
    let missing =
        || Error::Internal(format!("no client secret for {} in SOCIAL_SECRET_ID", setup.provider.as_str()));
    let secret = match &setup.secret {
        SecretSource::Deployment => {
            let secrets: DefaultSecrets = match &s.secret_id {
                Some(id) => serde_json::from_str(&app.secrets.string(id).await?).map_err(|_| {
                    Error::Internal("the social secret is not a JSON object of client secrets".into())
                })?,
                None => DefaultSecrets::default(),
            };
            match setup.provider {
                ProviderId::Google => secrets.google_client_secret.ok_or_else(missing)?,
                ProviderId::GitHub => secrets.github_client_secret.ok_or_else(missing)?,
                ProviderId::Apple => {
                    let pem = secrets.apple_private_key.ok_or_else(missing)?;
                    let (team, key_id) = (s.apple_team_id.as_deref(), s.apple_key_id.as_deref());
                    let (Some(team), Some(key_id)) = (team, key_id) else { return Err(missing()) };
                    apple_client_secret(s, team, key_id, &setup.client_id, &pem)?
                }
            }
        }
        SecretSource::Sealed { sealed, team_id, key_id } => {
            let opened =
                app.provider_sealer.open(&sealing_context(&tenant.id, setup.provider), sealed).await?;
            match (setup.provider, team_id, key_id) {
                (ProviderId::Apple, Some(team), Some(key_id)) => {
                    apple_client_secret(s, team, key_id, &setup.client_id, opened.expose_secret())?
                }
                (ProviderId::Apple, _, _) => {
                    return Err(Error::Internal("an Apple setup without team or key id".into()));
                }
                _ => opened.expose_secret().to_owned(),
            }
        }
    };
    Ok(secret.into())
}

/// Where a callback URL of the app's provider is: the app's issuer is its base URL.
pub fn callback_url(tenant: &Tenant, provider: ProviderId) -> String {
    format!("{}/api/v1/auth/oauth/{}/callback", tenant.issuer, provider.as_str())
}

/// The `oauth2` client of a provider, with the endpoints `http`'s discovery found.
pub(super) type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A token response with the ID token OpenID Connect adds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

pub(super) type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// The `oauth2` client of an app's provider; with the client secret for a code exchange, without
/// it for an authorization URL (which needs none: the secret is read only when it is used).
pub(super) async fn client(
    app: &App,
    tenant: &Tenant,
    setup: &Setup,
    secret: Option<&secrecy::SecretString>,
) -> Result<(Client, Option<oidc::Discovery>)> {
    use secrecy::ExposeSecret;
    let provider = setup.provider;
    let (auth, token, discovery) = match provider {
        ProviderId::Google | ProviderId::Apple => {
            let issuer = oidc::issuer_of(&app.config.social, provider);
            let d = oidc::discover(&issuer).await?;
            (d.authorization_endpoint.clone(), d.token_endpoint.clone(), Some(d))
        }
        ProviderId::GitHub => {
            let base = app.config.social.github_oauth_url.trim_end_matches('/');
            (format!("{base}/login/oauth/authorize"), format!("{base}/login/oauth/access_token"), None)
        }
    };
    let bad = |what: &str| Error::Internal(format!("the {} {what} URL is not valid", provider.as_str()));
    let mut client = oauth2::Client::new(ClientId::new(setup.client_id.clone()))
        .set_auth_uri(AuthUrl::new(auth).map_err(|_| bad("authorization"))?)
        .set_token_uri(TokenUrl::new(token).map_err(|_| bad("token"))?)
        .set_redirect_uri(RedirectUrl::new(callback_url(tenant, provider)).map_err(|_| bad("callback"))?);
    if let Some(secret) = secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
    }
    if provider == ProviderId::Apple {
        // Apple takes the client's credentials in the request body only.
        client = client.set_auth_type(oauth2::AuthType::RequestBody);
    }
    Ok((client, discovery))
}
