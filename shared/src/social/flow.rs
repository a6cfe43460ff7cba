//! The flow: start (state, PKCE, nonce), the callback and its code exchange, native ID-token
//! sign-in, and the one-time code a front end trades for tokens.

use super::ProviderProfile;
use super::accounts::account;
use super::accounts::check_status;
use super::accounts::link_to;
use super::accounts::start_session;
use super::http;
use super::oidc;
use super::setup::client;
use super::setup::client_secret;
use super::setup::setup;
use crate::App;
use crate::audit::ClientInfo;
use crate::crypto;
use crate::error::Error;
use crate::error::Result;
use crate::ids::UserId;
use crate::limits::Route;
use crate::mfa::SignIn;
use crate::model::CodeRecord;
use crate::model::ProviderId;
use crate::model::StateRecord;
use crate::model::UserRecord;
use crate::tenant::Tenant;
use chrono::Utc;
use oauth2::AuthorizationCode;
use oauth2::CsrfToken;
use oauth2::PkceCodeChallenge;
use oauth2::PkceCodeVerifier;
use oauth2::RedirectUrl;
use oauth2::Scope;
use std::time::Duration;
use subtle::ConstantTimeEq;

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

pub(super) async fn begin(
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

/// How a finished sign-in ends: our token pair, or (with `redirect_to`) a redirect carrying a
/// one-time code for it, or (a link) the provider now linked.
pub enum Finished {
    Linked(ProviderId),
    /// Our token pair, or the second step of a user with a second factor.
    SignedIn(SignIn),
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
pub(super) async fn complete(
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
        None => Ok(Finished::SignedIn(start_session(app, tenant, &user, client_info).await?)),
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
pub(super) fn with_param(to: &str, name: &str, value: &str) -> Result<String> {
    let mut url =
        url::Url::parse(to).map_err(|_| Error::Internal("a stored redirect_to is not a URL".into()))?;
    url.query_pairs_mut().append_pair(name, value);
    Ok(url.to_string())
}

/// An authorization code to exchange at the provider: ours (the callback) or a native client's
/// own (with its redirect URI).
pub(super) struct CodeExchange<'a> {
    pub(super) code: &'a str,
    pub(super) verifier: &'a str,
    pub(super) redirect_uri: Option<&'a str>,
    pub(super) nonce: Option<&'a str>,
}

/// The person an authorization code stands for: exchanged at the provider's token endpoint with
/// the PKCE verifier, then the ID token verified (OpenID Connect) or the API asked (GitHub).
pub(super) async fn profile_from_code(
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
) -> Result<SignIn> {
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

/// The name in Apple's `user` field (sent with the first sign-in only, never in the ID token).
pub(super) fn apple_name(user: &str) -> Option<String> {
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
) -> Result<SignIn> {
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
