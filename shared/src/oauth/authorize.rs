//! The authorization endpoint of an app's OAuth provider (RFC 6749 section 4.1, OIDC Core 3.1.2):
//! the request's rules, what the browser must go through next (the login page, the consent page,
//! or neither), the provider's browser session, and the authorization code.
//!
//! Errors follow RFC 6749 section 4.1.2.1: while the client or its redirect URI is in doubt the
//! browser gets an error page (`Refusal::Page`) and is never sent anywhere; once both are known,
//! every other error goes back to the client (`Refusal::Redirect`) with `state` and `iss`
//! (RFC 9207).

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::audit::{self, ClientInfo, EventType};
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids::{ClientId, UserId};
use crate::model::{
    Acr, Authn, AuthorizationCodeRecord, ClientType, ConsentRecord, GrantType, OAuthClientRecord, UserRecord,
};
use crate::tenant::Tenant;

/// What `prompt` asks for (OIDC Core 3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A valid authorization request, as the code will remember it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub prompt: Prompt,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The user an `id_token_hint` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hinted_user: Option<UserId>,
    /// `acr_values` names `aal2`: the sign-in must have had a second factor (a voluntary claim,
    /// OIDC Core 5.5.1.1: other values are ignored).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wants_aal2: bool,
}

/// Why an authorization request goes no further.
#[derive(Debug)]
pub enum Refusal {
    /// The client or its redirect URI cannot be trusted: an error page, never a redirect.
    Page(String),
    /// Back to the client's redirect URI (the full URL, with `error`, `state` and `iss`).
    Redirect(String),
    /// The service's own failure.
    Service(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Service(e)
    }
}

/// Long enough for any client's state and nonce, short enough that the sealed request fits the
/// cookie a social or magic-link sign-in keeps it in.
const MAX_STATE_CHARS: usize = 512;
const MAX_NONCE_CHARS: usize = 256;
pub const MAX_HINT_CHARS: usize = 254;

/// `redirect_uri` with `params` added to its query (RFC 6749 section 4.1.2: the URI's own query
/// is kept).
pub fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return redirect_uri.to_owned();
    }
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in params {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        // Registered URIs are parsed at registration: not reached.
        Err(_) => redirect_uri.to_owned(),
    }
}

/// An error sent back to the client (RFC 6749 section 4.1.2.1, RFC 9207's `iss`).
pub fn error_redirect(
    tenant: &Tenant,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> String {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", tenant.issuer.as_str()));
    with_params(redirect_uri, &params)
}

/// Checks an authorization request's parameters (the query, each at most once) against the
/// client it names.
pub async fn parse(
    app: &App,
    tenant: &Tenant,
    params: &[(String, String)],
) -> std::result::Result<(AuthorizationRequest, OAuthClientRecord), Refusal> {
    let mut seen = std::collections::HashMap::new();
    for (k, v) in params {
        if seen.insert(k.as_str(), v.as_str()).is_some() {
            // Which value would the client have meant? Not knowing, the client is in doubt too.
            return Err(Refusal::Page(format!("The parameter {k} is repeated.")));
        }
    }
    let get = |name: &str| seen.get(name).copied().filter(|v| !v.is_empty());
    let client_id = get("client_id").ok_or_else(|| Refusal::Page("The request names no client.".into()))?;
    let client = match ClientId::parse(client_id) {
        Some(id) => app.store.oauth_client(&tenant.id, &id).await?,
        None => None,
    }
    .ok_or_else(|| Refusal::Page("The application that sent you here is not known.".into()))?;
    let redirect_uri =
        get("redirect_uri").ok_or_else(|| Refusal::Page("The request names no redirect_uri.".into()))?;
    // Exact string comparison (RFC 9700 section 4.1.3): no normalisation, no prefix match.
    if !client.settings.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Refusal::Page(
            "The redirect_uri is not one the application registered, so you are not sent back to it.".into(),
        ));
    }
    let state = get("state").map(str::to_owned);
    let refuse = |error: &str, description: &str| {
        Refusal::Redirect(error_redirect(tenant, redirect_uri, state.as_deref(), error, description))
    };
    if let Some(state) = &state
        && state.chars().count() > MAX_STATE_CHARS
    {
        return Err(refuse("invalid_request", "state is too long"));
    }
    if seen.contains_key("request") {
        return Err(refuse("request_not_supported", "request objects are not supported"));
    }
    if seen.contains_key("request_uri") {
        return Err(refuse("request_uri_not_supported", "request_uri is not supported"));
    }
    match get("response_type") {
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => return Err(refuse("unsupported_response_type", "only response_type=code is supported")),
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(refuse("invalid_request", "only response_mode=query is supported"));
    }
    if !client.settings.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(refuse("unauthorized_client", "the client may not use the authorization code grant"));
    }
    let scopes = match get("scope") {
        // None named: what the client may have, but a refresh token only when asked for.
        None => client.settings.scopes.iter().filter(|s| *s != "offline_access").cloned().collect(),
        Some(words) => {
            let mut out: Vec<String> = Vec::new();
            for word in words.split(' ').filter(|w| !w.is_empty()) {
                if !client.settings.scopes.iter().any(|s| s == word) {
                    return Err(refuse("invalid_scope", &format!("the client may not ask for {word}")));
                }
                if !out.iter().any(|s| s == word) {
                    out.push(word.to_owned());
                }
            }
            out
        }
    };
    if scopes.is_empty() {
        return Err(refuse("invalid_scope", "no scope is requested"));
    }
    // PKCE (RFC 7636), S256 only: `plain` gives nothing over no PKCE once the request leaks.
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) if client.client_type == ClientType::Public => {
            return Err(refuse("invalid_request", "a public client must use PKCE (code_challenge, S256)"));
        }
        (None, None) if client.settings.require_pkce => {
            return Err(refuse("invalid_request", "this client must use PKCE (code_challenge, S256)"));
        }
        (None, None) => None,
        (None, Some(_)) => {
            return Err(refuse("invalid_request", "code_challenge_method without code_challenge"));
        }
        (Some(challenge), Some("S256")) => {
            let well_formed = challenge.len() == 43
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge must be a base64url SHA-256 (43 characters)",
                ));
            }
            Some(challenge.to_owned())
        }
        // No method means `plain` (RFC 7636 section 4.3).
        (Some(_), _) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not supported)",
            ));
        }
    };
    let nonce = get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.chars().count() > MAX_NONCE_CHARS) {
        return Err(refuse("invalid_request", "nonce is too long"));
    }
    let mut prompt = Prompt::default();
    for word in get("prompt").unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // There is one account per browser session: nothing to select.
            "select_account" => {}
            _ => return Err(refuse("invalid_request", "prompt has an unknown value")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(refuse("invalid_request", "prompt=none cannot be combined with other values"));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(refuse("invalid_request", "max_age must be a non-negative integer")),
        },
    };
    let wants_aal2 = get("acr_values").is_some_and(|v| v.split(' ').any(|a| a == Acr::Aal2.as_str()));
    let login_hint = get("login_hint").map(|h| h.chars().take(MAX_HINT_CHARS).collect::<String>());
    let hinted_user = match get("id_token_hint") {
        None => None,
        Some(hint) => {
            let verifier = app.verifier(crate::tokens::kid_of(hint).as_deref()).await?;
            let claims = verifier
                .verify_id_token_hint(hint, &tenant.issuer)
                .filter(|c| c.get("aud").and_then(|a| a.as_str()) == Some(client.client_id.as_str()));
            match claims.and_then(|c| c.get("sub").and_then(|s| s.as_str()).and_then(UserId::parse)) {
                Some(user) => Some(user),
                None => {
                    return Err(refuse("invalid_request", "id_token_hint is not an ID token of this client"));
                }
            }
        }
    };
    let request = AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        hinted_user,
        wants_aal2,
    };
    Ok((request, client))
}

/// What the browser goes through next.
#[derive(Debug)]
pub enum Next {
    Login,
    Consent {
        user: Box<UserRecord>,
        authn: Authn,
    },
    /// The authorization asks for `aal2` (`acr_values`) and the browser's sign-in had one factor:
    /// the user's second factor first.
    SecondFactor {
        user: Box<UserRecord>,
        authn: Authn,
    },
    /// Back to the client with a code (the full URL).
    Done(String),
}

/// Where an authorization stands for this browser: `signed_in` is its session's user and sign-in
/// time; `fresh` says the sign-in happened in this very authorization (so `prompt=login` and
/// `max_age` are met); `consented` that the user just allowed it on the consent page.
pub async fn next(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    request: &AuthorizationRequest,
    signed_in: Option<(UserRecord, Authn)>,
    fresh: bool,
    client_info: &ClientInfo,
) -> std::result::Result<Next, Refusal> {
    let now = Utc::now().timestamp();
    let refuse = |error: &str, description: &str| {
        Refusal::Redirect(error_redirect(
            tenant,
            &request.redirect_uri,
            request.state.as_deref(),
            error,
            description,
        ))
    };
    let signed_in = signed_in.filter(|(user, authn)| {
        let auth_time = authn.auth_time;
        fresh
            || (!request.prompt.login
                // max_age=0 asks for a sign-in now, like prompt=login (OIDC Core 3.1.2.1).
                && request.max_age.is_none_or(|max| max > 0 && now - auth_time <= max)
                && request.hinted_user.as_ref().is_none_or(|hinted| *hinted == user.user_id))
    });
    let Some((user, authn)) = signed_in else {
        if request.prompt.none {
            return Err(refuse("login_required", "the user is not signed in"));
        }
        return Ok(Next::Login);
    };
    if request.wants_aal2 && authn.acr < Acr::Aal2 {
        if request.prompt.none {
            return Err(refuse("interaction_required", "the authorization asks for a second factor"));
        }
        return Ok(Next::SecondFactor { user: Box::new(user), authn });
    }
    let consent = app.store.consent(&tenant.id, &user.user_id, &client.client_id).await?;
    let covered = consent.is_some_and(|c| request.scopes.iter().all(|s| c.scopes.contains(s)));
    // A first-party client asks no consent (unless prompt=consent asks for the page); its
    // authorization is remembered all the same, so the user sees and can disconnect it.
    if client.settings.first_party && !request.prompt.consent {
        if !covered {
            remember_consent(app, tenant, client, request, &user, client_info).await?;
        }
        return Ok(Next::Done(issue_code(app, tenant, client, request, &user, &authn).await?));
    }
    if !covered || request.prompt.consent {
        if request.prompt.none {
            return Err(refuse("consent_required", "the user has not consented to these scopes"));
        }
        return Ok(Next::Consent { user: Box::new(user), authn });
    }
    Ok(Next::Done(issue_code(app, tenant, client, request, &user, &authn).await?))
}

/// The user allowed the client on the consent page: remember it (the scopes added to any given
/// before) and send the browser back with a code.
pub async fn consent_given(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    request: &AuthorizationRequest,
    user: &UserRecord,
    authn: &Authn,
    client_info: &ClientInfo,
) -> std::result::Result<String, Refusal> {
    remember_consent(app, tenant, client, request, user, client_info).await?;
    issue_code(app, tenant, client, request, user, authn).await
}

/// Remembers the user's consent to the request's scopes (added to any given before), with its
/// event, while the user is active.
async fn remember_consent(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    request: &AuthorizationRequest,
    user: &UserRecord,
    client_info: &ClientInfo,
) -> std::result::Result<(), Refusal> {
    let now = Utc::now();
    let mut scopes = app
        .store
        .consent(&tenant.id, &user.user_id, &client.client_id)
        .await?
        .map(|c| c.scopes)
        .unwrap_or_default();
    for s in &request.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    let consent = ConsentRecord {
        tenant_id: tenant.id.clone(),
        user_id: user.user_id.clone(),
        client_id: client.client_id.clone(),
        scopes,
        granted_at: now,
    };
    let details = audit::details([
        ("client_id", serde_json::json!(client.client_id)),
        ("scopes", serde_json::json!(request.scopes)),
    ]);
    let record = audit::record(
        &app.config,
        &tenant.id,
        &user.user_id,
        EventType::OAuthConsentGranted,
        client_info,
        details,
        now,
    );
    if app.store.put_consent(&consent, Some(&record)).await? == crate::store::Written::ConditionFailed {
        return Err(Refusal::Redirect(error_redirect(
            tenant,
            &request.redirect_uri,
            request.state.as_deref(),
            "access_denied",
            "the account is not active",
        )));
    }
    Ok(())
}

/// The user refused on the consent page.
pub fn consent_denied(tenant: &Tenant, request: &AuthorizationRequest) -> String {
    error_redirect(
        tenant,
        &request.redirect_uri,
        request.state.as_deref(),
        "access_denied",
        "the user denied the request",
    )
}

/// Issues an authorization code and returns the redirect that carries it.
async fn issue_code(
    app: &App,
    tenant: &Tenant,
    client: &OAuthClientRecord,
    request: &AuthorizationRequest,
    user: &UserRecord,
    authn: &Authn,
) -> std::result::Result<String, Refusal> {
    let now = Utc::now();
    let (code, hash) = crypto::new_token();
    let expires_at = now.timestamp() + app.config.social.code_lifetime.as_secs() as i64;
    let record = AuthorizationCodeRecord {
        tenant_id: tenant.id.clone(),
        client_id: client.client_id.clone(),
        user_id: user.user_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: authn.auth_time,
        amr: authn.amr.clone(),
        acr: authn.acr,
        grant_id: crypto::new_id(),
        credential_version: user.credential_version,
        expires_at,
        redeemed_at: None,
        // Kept past its expiry for a while, so that a late second presentation is still known.
        ttl: expires_at + 3600,
    };
    app.store.put_authorization_code(&hash, &record).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", tenant.issuer.as_str()));
    Ok(with_params(&request.redirect_uri, &params))
}

/// A scope as the consent page words it: the standard ones in our words, the app's own in its
/// developer's.
pub fn scope_words(tenant: &Tenant, scope: &str) -> String {
    tenant
        .settings
        .offered_scopes()
        .find(|(name, _)| *name == scope)
        .map(|(_, words)| words.to_owned())
        .unwrap_or_else(|| scope.to_owned())
}

// ----- the pending request ------------------------------------------------------------------------

/// An authorization request carried through the login and consent forms: signed by the service,
/// so a form cannot change what the client asked for, and bound to the browser's CSRF cookie.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    req: AuthorizationRequest,
    /// SHA-256 of the browser's CSRF cookie.
    csrf: String,
    /// The user the consent page was shown to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<UserId>,
}

const PENDING_TYPE: &str = "oauth-authz-req+jwt";
const PENDING_SUBJECT: &str = "authorization_request";

fn pending_audience(tenant: &Tenant) -> String {
    format!("{}/oauth/authorize", tenant.issuer)
}

/// Seals a request for a page's form, bound to the browser's CSRF cookie and, on the consent
/// page, to the user it was shown to.
pub async fn seal(
    app: &App,
    tenant: &Tenant,
    request: &AuthorizationRequest,
    csrf_cookie: &str,
    user: Option<&UserId>,
) -> Result<String> {
    let ring = app.keys.ring().await?;
    let now = Utc::now().timestamp();
    let pending = Pending {
        iss: tenant.issuer.clone(),
        aud: pending_audience(tenant),
        sub: PENDING_SUBJECT.to_owned(),
        iat: now,
        nbf: now,
        exp: now + app.config.social.state_lifetime.as_secs() as i64,
        req: request.clone(),
        csrf: crypto::token_hash(csrf_cookie),
        uid: user.cloned(),
    };
    ring.sign(&pending, PENDING_TYPE)
}

/// Opens a form's sealed request: only one this service sealed for this app, unexpired, and bound
/// to this browser (the form's CSRF token is the browser's CSRF cookie). `None` otherwise.
pub async fn open(
    app: &App,
    tenant: &Tenant,
    sealed: &str,
    csrf_token: &str,
    csrf_cookie: Option<&str>,
) -> Result<Option<(AuthorizationRequest, Option<UserId>)>> {
    use subtle::ConstantTimeEq;
    let Some(cookie) = csrf_cookie else { return Ok(None) };
    if !bool::from(cookie.as_bytes().ct_eq(csrf_token.as_bytes())) {
        return Ok(None);
    }
    let verifier = app.verifier(crate::tokens::kid_of(sealed).as_deref()).await?;
    let Some(pending) =
        verifier.verify::<Pending>(sealed, PENDING_TYPE, &tenant.issuer, &pending_audience(tenant))
    else {
        return Ok(None);
    };
    let bound = pending.sub == PENDING_SUBJECT
        && bool::from(pending.csrf.as_bytes().ct_eq(crypto::token_hash(cookie).as_bytes()));
    Ok(bound.then_some((pending.req, pending.uid)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_join_the_redirect_uris_own_query() {
        assert_eq!(
            with_params("https://rp.example/cb?x=1", &[("code", "a b"), ("state", "s&t")]),
            "https://rp.example/cb?x=1&code=a+b&state=s%26t"
        );
        assert_eq!(with_params("com.example.app:/cb", &[("code", "c")]), "com.example.app:/cb?code=c");
    }
}
