//! Social login (contract: "Social login"): the service is an OAuth2 client of Google, Apple and
//! GitHub. This module holds the flow (start, callback), the accounts it signs in or creates, and
//! the providers' configuration; `oidc` verifies ID tokens, `http` is the HTTP client the `oauth2`
//! crate sends its requests through.
//!
//! `state` is 256 random bits, stored only as its SHA-256 with what the callback needs (the PKCE
//! verifier, the nonce, the provider, `redirect_to`), consumed by a conditional delete (single
//! use, 10 minutes), and bound to the browser by an HttpOnly cookie holding it: a callback whose
//! browser does not hold the state it presents is refused (login CSRF).

pub mod http;
pub mod oidc;

use std::time::Duration;

use chrono::Utc;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::App;
use crate::accounts::{self, LoggedIn};
use crate::audit::{self, ClientInfo, EventType};
pub use crate::config::SocialConfig;
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::{AppId, UserId};
use crate::limits::Route;
pub use crate::model::{CodeRecord, ProviderId, StateRecord};
use crate::model::{UserRecord, UserStatus};
use crate::ratelimit::Limits;
use crate::store::IdentityOutcome;
use crate::tenant::Tenant;

/// One provider of one app, as a sign-in uses it: the client id, the audiences its ID tokens may
/// carry, and where its secret is (read only when a code is exchanged).
pub struct Setup {
    pub provider: ProviderId,
    pub client_id: String,
    pub extra_client_ids: Vec<String>,
    secret: SecretSource,
}

enum SecretSource {
    /// The `default` app's: in the deployment's social secret (`SOCIAL_SECRET_ID`), Apple's team
    /// and key id in the environment.
    Deployment,
    /// An app's own, configured through the console: sealed in its provider item.
    Sealed { sealed: String, team_id: Option<String>, key_id: Option<String> },
}

impl Setup {
    /// The audiences an ID token of this provider may name: the client id, then the extra ones.
    fn audiences(&self) -> Vec<&str> {
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
async fn setups(app: &App, tenant: &Tenant) -> Result<Vec<Setup>> {
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

fn default_setups(s: &SocialConfig) -> Vec<Setup> {
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
async fn setup(app: &App, tenant: &Tenant, provider: ProviderId) -> Result<Setup> {
    setups(app, tenant).await?.into_iter().find(|s| s.provider == provider).ok_or(Error::NotFound)
}

/// The secrets of the `default` app's providers (`SOCIAL_SECRET_ID`, a JSON object), read once per
/// container.
#[derive(Deserialize, Default)]
struct DefaultSecrets {
    #[serde(default)]
    google_client_secret: Option<String>,
    #[serde(default)]
    github_client_secret: Option<String>,
    /// Apple's signing key (PKCS#8 PEM, P-256), from which each client secret is made.
    #[serde(default)]
    apple_private_key: Option<String>,
}

/// How long an Apple client secret the service signs is valid (Apple allows up to six months; one
/// made per exchange needs minutes).
const APPLE_SECRET_LIFETIME_SECONDS: i64 = 300;

/// Apple's signing key, as the console takes it: a PKCS#8 PEM P-256 key (Apple's `.p8` file).
pub fn apple_key_is_usable(pem: &str) -> bool {
    jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).is_ok_and(|key| {
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        jsonwebtoken::encode(&header, &json!({}), &key).is_ok()
    })
}

/// Apple's client secret: an ES256 JWT signed with the app's key, issuer the team id, subject the
/// client id, audience Apple's issuer.
fn apple_client_secret(
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
async fn client_secret(app: &App, tenant: &Tenant, setup: &Setup) -> Result<secrecy::SecretString> {
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

/// Starts linking a provider to a signed-in user: the authorization URL the user completes in the
/// browser, and the state (bound to the browser, as for a sign-in).
pub async fn start_link(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    who: &crate::tokens::Identity,
    client_info: &ClientInfo,
) -> Result<Started> {
    let link = Some((who.user_id.clone(), who.session_id.clone()));
    begin(app, tenant, provider, None, None, link, client_info).await
}

/// Where the browser goes, and the state its cookie must hold.
pub struct Started {
    pub authorization_url: String,
    pub state: String,
}

/// Where a callback URL of the app's provider is: the app's issuer is its base URL.
pub fn callback_url(tenant: &Tenant, provider: ProviderId) -> String {
    format!("{}/api/v1/auth/oauth/{}/callback", tenant.issuer, provider.as_str())
}

/// The `oauth2` client of a provider, with the endpoints `http`'s discovery found.
type Client = oauth2::Client<
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
type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// The `oauth2` client of an app's provider; with the client secret for a code exchange, without
/// it for an authorization URL (which needs none: the secret is read only when it is used).
async fn client(
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

/// Starts a sign-in: the provider's authorization URL (code flow with PKCE S256, a nonce for
/// OpenID Connect) and the state to bind to the browser.
pub async fn start(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    redirect_to: Option<String>,
    code_challenge: Option<String>,
    client_info: &ClientInfo,
) -> Result<Started> {
    begin(app, tenant, provider, redirect_to, code_challenge, None, client_info).await
}

async fn begin(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    redirect_to: Option<String>,
    code_challenge: Option<String>,
    link: Option<(UserId, crate::ids::SessionId)>,
    client_info: &ClientInfo,
) -> Result<Started> {
    crate::ratelimit::hit(app, &tenant.id, Route::Social, client_info, None).await?;
    let setup = setup(app, tenant, provider).await?;
    // The app's own OAuth provider page that continues an authorization is always a destination.
    let provider_page = tenant.provider_continue_page();
    if let Some(to) = &redirect_to
        && *to != provider_page
        && !tenant.settings.redirect_urls.iter().any(|allowed| allowed == to)
    {
        return Err(Error::field("redirect_to", "not_an_allowed_redirect_url"));
    }
    let (client, _) = client(app, tenant, &setup, None).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (state, state_hash) = crypto::new_token();
    let (nonce, _) = crypto::new_token();
    let mut request = client.authorize_url(|| CsrfToken::new(state.clone())).set_pkce_challenge(challenge);
    request = match provider {
        ProviderId::Google => request
            .add_scopes(["openid", "email", "profile"].map(|s| Scope::new(s.into())))
            .add_extra_param("nonce", nonce.clone()),
        ProviderId::Apple => request
            .add_scopes(["openid", "name", "email"].map(|s| Scope::new(s.into())))
            .add_extra_param("nonce", nonce.clone())
            .add_extra_param("response_mode", "form_post"),
        ProviderId::GitHub => request.add_scopes(["read:user", "user:email"].map(|s| Scope::new(s.into()))),
    };
    let (url, _) = request.url();
    let now = Utc::now().timestamp();
    let expires_at = now + app.config.social.state_lifetime.as_secs() as i64;
    let record = StateRecord {
        tenant_id: tenant.id.clone(),
        provider,
        pkce_verifier: verifier.secret().to_owned(),
        nonce,
        redirect_to,
        code_challenge,
        link_session: link.as_ref().map(|(_, session)| session.clone()),
        link_user: link.map(|(user, _)| user),
        expires_at,
        ttl: expires_at,
    };
    app.store.put_oauth_state(&state_hash, &record).await?;
    Ok(Started { authorization_url: url.to_string(), state })
}

/// What the provider vouches for about the person signing in.
#[derive(Debug, Clone)]
pub struct ProviderProfile {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Google's `hd`: the Workspace domain that manages the account.
    pub hosted_domain: Option<String>,
}

impl ProviderProfile {
    /// Whether the provider is authoritative for the address it vouches for: it runs the mailbox,
    /// so its word may join a sign-in to the account that has the address. Google runs
    /// `@gmail.com`/`@googlemail.com` and the addresses of the Workspace domain its token names
    /// (`hd`); Apple its relay and the addresses it verified. GitHub verified that someone could
    /// read mail at the address once, which anyone who later controls it can do again.
    pub fn authoritative_for(&self, provider: ProviderId, email: &crate::domain::Email) -> bool {
        let domain =
            email.normalized().rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        match provider {
            ProviderId::Google => {
                matches!(domain.as_str(), "gmail.com" | "googlemail.com")
                    || self.hosted_domain.as_deref().is_some_and(|hd| hd.eq_ignore_ascii_case(&domain))
            }
            ProviderId::Apple => self.email_verified,
            ProviderId::GitHub => false,
        }
    }
}

/// How a finished sign-in ends: our token pair, or (with `redirect_to`) a redirect carrying a
/// one-time code for it, or (a link) the provider now linked.
pub enum Finished {
    Linked(ProviderId),
    Tokens(Box<LoggedIn>),
    Redirect(String),
}

/// The provider's callback: the state (matching the browser's cookie, live, unused), the code
/// exchanged with the PKCE verifier, the identity verified, the account signed in or created.
#[allow(clippy::too_many_arguments)]
pub async fn callback(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    answer: ProviderAnswer<'_>,
    state: &str,
    browser_state: Option<&str>,
    client_info: &ClientInfo,
) -> Result<Finished> {
    crate::ratelimit::hit(app, &tenant.id, Route::Social, client_info, None).await?;
    let bound: bool = browser_state.is_some_and(|b| b.as_bytes().ct_eq(state.as_bytes()).into());
    if !bound {
        return Err(Error::OAuthFailed("the sign-in was started in another browser".into()));
    }
    let record = app
        .store
        .take_oauth_state(&tenant.id, &crypto::token_hash(state), Utc::now().timestamp())
        .await?
        .filter(|r| r.provider == provider && r.tenant_id == tenant.id)
        .ok_or_else(|| Error::OAuthFailed("the sign-in expired or was already used".into()))?;
    let outcome = complete(app, tenant, provider, answer, &record, client_info).await;
    match (outcome, &record.redirect_to) {
        // A sign-in that named the app's page ends there either way: with `error=<our code>`
        // when it failed (the contract's 302 to `redirect_to?error=...`), so the front end can
        // tell its user. A failure of ours (500) stays an error answer, logged as one.
        (Err(e), Some(to)) if !matches!(e, Error::Internal(_)) => {
            tracing::info!(error = %e, provider = provider.as_str(), "social sign-in failed; back to redirect_to");
            Ok(Finished::Redirect(with_param(to, "error", e.code())?))
        }
        (outcome, _) => outcome,
    }
}

/// What the provider's redirect back carried: a code, or its refusal (denied consent ...).
pub enum ProviderAnswer<'a> {
    Code { code: &'a str, apple_user: Option<&'a str> },
    Refused(&'a str),
}

/// A started sign-in (its state consumed) carried to its end.
async fn complete(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    answer: ProviderAnswer<'_>,
    record: &StateRecord,
    client_info: &ClientInfo,
) -> Result<Finished> {
    let (code, apple_user) = match answer {
        ProviderAnswer::Code { code, apple_user } => (code, apple_user),
        ProviderAnswer::Refused(why) => {
            return Err(Error::OAuthFailed(if why.is_empty() {
                "the provider refused the sign-in".to_owned()
            } else {
                format!("the provider answered {why}")
            }));
        }
    };
    let exchange = CodeExchange {
        code,
        verifier: &record.pkce_verifier,
        redirect_uri: None,
        nonce: Some(&record.nonce),
    };
    let mut profile = profile_from_code(app, tenant, provider, exchange).await?;
    if profile.name.is_none() {
        profile.name = apple_user.and_then(apple_name);
    }
    if let Some(user_id) = &record.link_user {
        let session = match &record.link_session {
            Some(id) => app.store.session(&tenant.id, user_id, id).await?,
            None => None,
        };
        if !session.is_some_and(|s| s.is_live(Utc::now())) {
            return Err(Error::OAuthFailed("the session that started the link has ended".into()));
        }
        link_to(app, tenant, provider, &profile, user_id, client_info).await?;
        return Ok(Finished::Linked(provider));
    }
    let user = account(app, tenant, provider, &profile, client_info).await?;
    match &record.redirect_to {
        None => Ok(Finished::Tokens(Box::new(start_session(app, tenant, &user, client_info).await?))),
        Some(to) => {
            // No token in a URL: a one-time code, exchanged for the pair by the app's front end.
            let (code, hash) = crypto::new_token();
            let expires_at = Utc::now().timestamp() + CODE_LIFETIME.as_secs() as i64;
            let grant = CodeRecord {
                tenant_id: tenant.id.clone(),
                user_id: user.user_id.clone(),
                code_challenge: record.code_challenge.clone(),
                expires_at,
                ttl: expires_at,
            };
            app.store.put_oauth_code(&hash, &grant).await?;
            Ok(Finished::Redirect(with_param(to, "code", &code)?))
        }
    }
}

/// `to` (a stored `redirect_to`) with one more query parameter.
fn with_param(to: &str, name: &str, value: &str) -> Result<String> {
    let mut url =
        url::Url::parse(to).map_err(|_| Error::Internal("a stored redirect_to is not a URL".into()))?;
    url.query_pairs_mut().append_pair(name, value);
    Ok(url.to_string())
}

/// An authorization code to exchange at the provider: ours (the callback) or a native client's
/// own (with its redirect URI).
struct CodeExchange<'a> {
    code: &'a str,
    verifier: &'a str,
    redirect_uri: Option<&'a str>,
    nonce: Option<&'a str>,
}

/// The person an authorization code stands for: exchanged at the provider's token endpoint with
/// the PKCE verifier, then the ID token verified (OpenID Connect) or the API asked (GitHub).
async fn profile_from_code(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    exchange: CodeExchange<'_>,
) -> Result<ProviderProfile> {
    let setup = setup(app, tenant, provider).await?;
    let secret = client_secret(app, tenant, &setup).await?;
    let (client, discovery) = client(app, tenant, &setup, Some(&secret)).await?;
    let mut request = client
        .exchange_code(AuthorizationCode::new(exchange.code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(exchange.verifier.to_owned()));
    if let Some(uri) = exchange.redirect_uri {
        let uri = RedirectUrl::new(uri.to_owned())
            .map_err(|_| Error::field("redirect_uri", "must_be_absolute_url"))?;
        request = request.set_redirect_uri(std::borrow::Cow::Owned(uri));
    }
    let response = request.request_async(&http::client()).await.map_err(http::token_error)?;
    match (provider, discovery) {
        (ProviderId::Google | ProviderId::Apple, Some(d)) => {
            let id_token = response
                .extra_fields()
                .id_token
                .as_deref()
                .ok_or_else(|| Error::OAuthFailed("the provider sent no ID token".into()))?;
            oidc::verify(&d, id_token, &setup.audiences(), exchange.nonce).await
        }
        _ => {
            use oauth2::TokenResponse as _;
            http::github_profile(&app.config.social.github_api_url, response.access_token().secret()).await
        }
    }
}

/// What a native client brings to `POST /auth/oauth/{provider}/token`.
pub enum NativeGrant {
    /// The provider's ID token the app obtained with its own SDK (Google, Apple), and the nonce
    /// it sent, if any.
    IdToken { id_token: String, nonce: Option<String> },
    /// The app's own authorization code, PKCE verifier and redirect URI (any provider).
    Code { code: String, code_verifier: String, redirect_uri: String },
}

/// Native clients (mobile, desktop): the provider's proof the app obtained itself, verified as the
/// callback verifies its own, then the same accounts and our token pair.
pub async fn native(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    grant: NativeGrant,
    client_info: &ClientInfo,
) -> Result<LoggedIn> {
    crate::ratelimit::hit(app, &tenant.id, Route::Social, client_info, None).await?;
    let profile = match grant {
        NativeGrant::IdToken { id_token, nonce } => {
            if provider == ProviderId::GitHub {
                return Err(Error::field("id_token", "not_an_openid_connect_provider"));
            }
            // The nonce the app put in the sign-in binds the token to it: without one, a token
            // the user gave any other app of the same client id could be replayed here.
            if tenant.settings.native_nonce_required && nonce.as_deref().is_none_or(str::is_empty) {
                return Err(Error::field("nonce", "required"));
            }
            let setup = setup(app, tenant, provider).await?;
            let d = oidc::discover(&oidc::issuer_of(&app.config.social, provider)).await?;
            // The token carries the SHA-256 of the app's nonce (hex, as Apple documents and
            // Supabase requires), the app sends the nonce itself: whoever holds only the token
            // (a log, another app of the same client id) reads the hash but cannot send its
            // preimage.
            let expected = nonce.as_deref().map(crate::crypto::token_hash);
            oidc::verify(&d, &id_token, &setup.audiences(), expected.as_deref()).await?
        }
        NativeGrant::Code { code, code_verifier, redirect_uri } => {
            let exchange = CodeExchange {
                code: &code,
                verifier: &code_verifier,
                redirect_uri: Some(&redirect_uri),
                nonce: None,
            };
            profile_from_code(app, tenant, provider, exchange).await?
        }
    };
    let user = account(app, tenant, provider, &profile, client_info).await?;
    start_session(app, tenant, &user, client_info).await
}

/// The providers linked to a user, oldest first.
pub async fn identities(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
) -> Result<Vec<crate::store::IdentityRecord>> {
    app.store.identities(tenant, user_id).await
}

/// Unlinks a provider from the user; refused (409) when it is the last way to sign in (no
/// password, no other identity).
pub async fn unlink(
    app: &App,
    tenant: &AppId,
    user_id: &UserId,
    provider: ProviderId,
    client: &ClientInfo,
) -> Result<()> {
    let user = app.store.user(tenant, user_id).await?.ok_or(Error::Unauthorized)?;
    let linked = app.store.identities(tenant, user_id).await?;
    let identity = linked.iter().find(|i| i.provider == provider.as_str()).ok_or(Error::NotFound)?;
    if user.password_hash.is_none() && linked.len() <= 1 {
        return Err(Error::Conflict);
    }
    match app.store.unlink_identity(&user, identity).await? {
        IdentityOutcome::Done => {}
        IdentityOutcome::Conflict => return Err(Error::Conflict),
    }
    trail(app, &user, EventType::IdentityUnlinked, provider, client).await;
    Ok(())
}

/// The name in Apple's `user` field (sent with the first sign-in only, never in the ID token).
fn apple_name(user: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(user).ok()?;
    let part = |k: &str| v["name"][k].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let name = [part("firstName"), part("lastName")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    (!name.is_empty()).then_some(name)
}

/// How long the one-time code of a redirect lives.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// `POST /auth/oauth/exchange`: a one-time code (live, unused, of this app) for our token pair;
/// when the flow started with the client's PKCE challenge, only with its verifier.
pub async fn exchange(
    app: &App,
    tenant: &Tenant,
    code: &str,
    code_verifier: Option<&str>,
    client: &ClientInfo,
) -> Result<LoggedIn> {
    let user = redeem(app, tenant, code, code_verifier, client).await?;
    start_session(app, tenant, &user, client).await
}

/// A one-time code (live, unused, of this app, with its PKCE verifier when bound to one): the
/// user it names, who may sign in. `exchange` starts a session with it, the OAuth provider's login
/// page a browser session.
pub async fn redeem(
    app: &App,
    tenant: &Tenant,
    code: &str,
    code_verifier: Option<&str>,
    client: &ClientInfo,
) -> Result<UserRecord> {
    crate::ratelimit::hit(app, &tenant.id, Route::Social, client, None).await?;
    let grant = app
        .store
        .take_oauth_code(&tenant.id, &crypto::token_hash(code), Utc::now().timestamp())
        .await?
        .filter(|g| g.tenant_id == tenant.id)
        .ok_or(Error::InvalidToken)?;
    match (&grant.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed =
                PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_owned()));
            let matches: bool = computed.as_str().as_bytes().ct_eq(challenge.as_bytes()).into();
            if !matches {
                return Err(Error::InvalidToken);
            }
        }
        (Some(_), None) => return Err(Error::InvalidToken),
        // A verifier for a code bound to none: whoever holds the verifier did not start the
        // sign-in that made the code (an attacker's own code planted in a victim's flow).
        (None, Some(_)) => return Err(Error::InvalidToken),
        (None, None) => {}
    }
    let user = app.store.user(&tenant.id, &grant.user_id).await?.ok_or(Error::InvalidToken)?;
    check_status(&user)?;
    Ok(user)
}

fn check_status(user: &UserRecord) -> Result<()> {
    match user.status {
        UserStatus::Active => Ok(()),
        UserStatus::Disabled => Err(Error::AccountDisabled),
        UserStatus::PendingDeletion => Err(Error::AccountPendingDeletion),
    }
}

/// The account of the person the provider vouches for: a known identity's user; for a new
/// identity, an address the provider vouches for, then a new verified account or, when the app
/// links social sign-ins by email (`link_social_by_email: verified`), the account that has it.
pub async fn account(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    profile: &ProviderProfile,
    client: &ClientInfo,
) -> Result<UserRecord> {
    let now = Utc::now();
    let user = match app.store.identity_user(&tenant.id, provider.as_str(), &profile.subject).await? {
        Some(user_id) => app
            .store
            .user(&tenant.id, &user_id)
            .await?
            .ok_or_else(|| Error::OAuthFailed("the account no longer exists".into()))?,
        None => {
            let email = profile.email.as_deref().filter(|_| profile.email_verified).ok_or_else(|| {
                Error::OAuthFailed("the provider does not vouch for an email address".into())
            })?;
            let email = crate::domain::Email::parse(email)
                .map_err(|_| Error::OAuthFailed("the provider's email address is not usable".into()))?;
            match app.store.user_by_email(&tenant.id, email.normalized()).await? {
                None => {
                    if !tenant.settings.signup_enabled {
                        return Err(Error::Forbidden);
                    }
                    let mut user = accounts::new_user(
                        &tenant.id,
                        &UserId::generate(),
                        &email,
                        None,
                        provider.as_str(),
                        true,
                        now,
                    );
                    user.name = profile.name.clone();
                    match app
                        .store
                        .create_user_with_identity(&user, provider.as_str(), &profile.subject)
                        .await?
                    {
                        IdentityOutcome::Done => user,
                        IdentityOutcome::Conflict => return Err(Error::Conflict),
                    }
                }
                Some(existing) => {
                    // Only a provider that runs the mailbox may vouch for the account's owner:
                    // anyone else signs in and links from that session instead.
                    if tenant.settings.link_social_by_email != crate::settings::LinkByEmail::Verified
                        || !profile.authoritative_for(provider, &email)
                    {
                        return Err(Error::IdentityConflict);
                    }
                    // A disabled account, or one being deleted, gains no way in.
                    check_status(&existing)?;
                    match app.store.link_identity(&existing, provider.as_str(), &profile.subject, now).await?
                    {
                        IdentityOutcome::Done => {}
                        IdentityOutcome::Conflict => return Err(Error::Conflict),
                    }
                    trail(app, &existing, EventType::IdentityLinked, provider, client).await;
                    app.store.user(&tenant.id, &existing.user_id).await?.ok_or(Error::Conflict)?
                }
            }
        }
    };
    check_status(&user)?;
    Ok(user)
}

/// Links the identity to the signed-in user who asked for it: an identity of someone else is 409
/// `identity_conflict`; one already theirs is fine.
async fn link_to(
    app: &App,
    tenant: &Tenant,
    provider: ProviderId,
    profile: &ProviderProfile,
    user_id: &UserId,
    client: &ClientInfo,
) -> Result<()> {
    match app.store.identity_user(&tenant.id, provider.as_str(), &profile.subject).await? {
        Some(owner) if owner == *user_id => return Ok(()),
        Some(_) => return Err(Error::IdentityConflict),
        None => {}
    }
    let user = app.store.user(&tenant.id, user_id).await?.ok_or(Error::Unauthorized)?;
    check_status(&user)?;
    match app.store.add_identity(&user, provider.as_str(), &profile.subject, false, Utc::now()).await? {
        IdentityOutcome::Done => {}
        // This user already has another identity of this provider, or the account changed.
        IdentityOutcome::Conflict => return Err(Error::Conflict),
    }
    trail(app, &user, EventType::IdentityLinked, provider, client).await;
    Ok(())
}

/// A new session for a user a provider (or a one-time code) vouched for.
async fn start_session(
    app: &App,
    tenant: &Tenant,
    user: &UserRecord,
    client: &ClientInfo,
) -> Result<LoggedIn> {
    let existing = app.store.sessions(&tenant.id, &user.user_id).await?;
    let (pair, session_id) = crate::sessions::start(
        app,
        tenant,
        user,
        &existing,
        client,
        Utc::now(),
        EventType::SocialLogin,
        // The provider proved the person: failed password sign-ins are forgiven, as by a magic link.
        &Limits::forgiving(&tenant.id, &user.email_normalized, Route::Login),
        Error::Conflict,
    )
    .await?;
    Ok(LoggedIn { pair, user: user.clone(), session_id })
}

async fn trail(app: &App, user: &UserRecord, event: EventType, provider: ProviderId, client: &ClientInfo) {
    let details = audit::details([("provider", json!(provider.as_str()))]);
    let record =
        audit::record(&app.config, &user.tenant_id, &user.user_id, event, client, details, Utc::now());
    app.store.put_audit_or_log(&record).await;
}
