//! The HTML edge of an app's OAuth provider: its login, consent and message pages (askama, every
//! value HTML-escaped), their security headers (a CSP with a per-response nonce for the one style
//! sheet, `frame-ancestors 'none'`, `form-action` limited to the provider and the client the
//! browser goes back to), and the two `__Host-` cookies: the provider's browser session and the
//! CSRF cookie the forms' tokens are checked against.

use std::collections::HashMap;

use askama::Template;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::error::{Error, Result};
use shared::ids::UserId;
use shared::model::OAuthClientRecord;
use shared::model::UserRecord;
use shared::oauth::authorize::{self, AuthorizationRequest, Next, Refusal};
use shared::{App, Tenant};
use subtle::ConstantTimeEq;

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};
use crate::edge::page::{PageResult, Stop};

/// A social provider's button on the login page.
pub struct ProviderButton {
    pub id: &'static str,
    pub name: &'static str,
}

/// A message page's one button: a form of hidden fields.
pub struct ButtonForm {
    pub action: String,
    pub fields: Vec<(&'static str, String)>,
    pub button: &'static str,
}

#[derive(Template)]
#[template(path = "op/login.html")]
struct LoginPage<'a> {
    nonce: &'a str,
    app_name: &'a str,
    app_initial: String,
    client_name: &'a str,
    login_action: String,
    request: &'a str,
    csrf_token: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    providers: Vec<ProviderButton>,
}

#[derive(Template)]
#[template(path = "op/second_factor.html")]
struct SecondFactorPage<'a> {
    nonce: &'a str,
    app_name: &'a str,
    app_initial: String,
    client_name: &'a str,
    login_action: String,
    request: &'a str,
    csrf_token: &'a str,
    mfa_token: &'a str,
    has_totp: bool,
    has_codes: bool,
    error: Option<&'a str>,
}

/// A second step the page asks for: its `mfa_token` and the kinds of answer it takes.
pub struct SecondFactorView {
    pub mfa_token: String,
    pub has_totp: bool,
    pub has_codes: bool,
}

impl From<&shared::mfa::Pending> for SecondFactorView {
    fn from(p: &shared::mfa::Pending) -> Self {
        let has = |kind: &str| p.factors.iter().any(|f| f["type"] == kind);
        SecondFactorView {
            mfa_token: p.mfa_token.clone(),
            has_totp: has("totp"),
            has_codes: has("recovery_code"),
        }
    }
}

#[derive(Template)]
#[template(path = "op/consent.html")]
struct ConsentPage<'a> {
    nonce: &'a str,
    app_name: &'a str,
    app_initial: String,
    client_name: &'a str,
    consent_action: String,
    request: &'a str,
    csrf_token: &'a str,
    scopes: Vec<String>,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "op/message.html")]
struct MessagePage<'a> {
    nonce: &'a str,
    app_name: &'a str,
    app_initial: String,
    heading: &'a str,
    message: &'a str,
    form: Option<ButtonForm>,
}

fn initial(name: &str) -> String {
    name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect()).unwrap_or_default()
}

/// The pages' policy: nothing loads but the nonce'd style sheet; forms post only to the provider
/// and, after the redirects that follow them, to the client's redirect URI and the social
/// providers the login page sends to (browsers apply `form-action` to a form's redirects too);
/// no framing (clickjacking).
fn csp(nonce: &str, targets: &[String]) -> String {
    let origins: Vec<String> = targets.iter().filter_map(|t| origin(t)).collect();
    format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; form-action 'self'{}; \
         frame-ancestors 'none'; base-uri 'none'",
        origins.iter().map(|o| format!(" {o}")).collect::<String>()
    )
}

/// A URL's origin as a CSP source: `scheme://host:port`, or `scheme:` for a native app's
/// private-use scheme.
fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(match u.origin() {
        url::Origin::Tuple(..) => u.origin().ascii_serialization(),
        url::Origin::Opaque(_) => format!("{}:", u.scheme()),
    })
}

fn nonce() -> String {
    shared::crypto::new_token().0
}

fn page(
    status: StatusCode,
    body: std::result::Result<String, askama::Error>,
    nonce: &str,
    targets: &[String],
) -> Result<Reply> {
    let body = body.map_err(|e| Error::Internal(format!("page rendering failed: {e}")))?;
    Ok(Reply::html(status, body, csp(nonce, targets)).header("x-frame-options", "DENY"))
}

/// A page with a heading and a sentence (errors, "signed out").
pub fn message(tenant: &Tenant, status: StatusCode, heading: &str, text: &str) -> Result<Reply> {
    message_with(tenant, status, heading, text, None, &[])
}

/// A message page with one button (a form posted to the provider).
pub fn message_with(
    tenant: &Tenant,
    status: StatusCode,
    heading: &str,
    text: &str,
    form: Option<ButtonForm>,
    targets: &[String],
) -> Result<Reply> {
    let nonce = nonce();
    let body = MessagePage {
        nonce: &nonce,
        app_name: &tenant.settings.name,
        app_initial: initial(&tenant.settings.name),
        heading,
        message: text,
        form,
    }
    .render();
    page(status, body, &nonce, targets)
}

/// A page handler's answer: its page, or the page of why it stopped. Every provider page handler
/// ends here, once.
pub fn answer(tenant: &Tenant, outcome: PageResult) -> Result<Reply> {
    match outcome {
        Ok(reply) => Ok(reply),
        Err(Stop::Message { status, heading, text }) => message(tenant, status, heading, &text),
        Err(Stop::Redirect(url)) => Ok(Reply::redirect(url)),
        Err(Stop::Failed(e)) => failure(tenant, e),
    }
}

/// A refused authorization: the error page (the request cannot be trusted with a redirect), the
/// redirect back with the error, or the service's failure.
impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Page(text) => unusable(text),
            Refusal::Redirect(url) => Stop::Redirect(url),
            Refusal::Service(e) => Stop::Failed(e),
        }
    }
}

/// The service's own failure, for a browser.
fn failure(tenant: &Tenant, e: Error) -> Result<Reply> {
    match e {
        Error::RateLimited { retry_after_seconds } => Ok(message(
            tenant,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &format!("Please wait {retry_after_seconds} seconds and try again."),
        )?
        .header_value("retry-after", retry_after_seconds.to_string())),
        Error::Dependency { .. } => {
            tracing::warn!(error = %e, "OAuth page: a dependency failed");
            message(
                tenant,
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "Please try again in a moment.",
            )
        }
        other => {
            tracing::error!(error = %other, "OAuth page failed");
            message(tenant, StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again.")
        }
    }
}

/// A sign-in request that cannot be used, and why.
pub fn unusable(text: impl Into<String>) -> Stop {
    Stop::message(StatusCode::BAD_REQUEST, "This sign-in request cannot be used", text)
}

/// One request against the per-address limit of the provider's pages (`RATE_LIMIT_OAUTH_PAGES`):
/// each does reads and signs, and none is worth more than a person clicks.
pub async fn limit(app: &App, cx: &Cx) -> Result<()> {
    shared::ratelimit::hit(app, &cx.tenant.id, shared::ratelimit::Route::OAuthPages, &cx.client, None)
        .await?;
    Ok(())
}

/// The client an authorization in progress names; it may have been deleted meanwhile.
pub async fn client_of(
    app: &App,
    tenant: &Tenant,
    request: &AuthorizationRequest,
) -> std::result::Result<OAuthClientRecord, Stop> {
    app.store
        .oauth_client(&tenant.id, &request.client_id)
        .await?
        .ok_or_else(|| unusable("The application that sent you here is no longer registered."))
}

/// The form's request was not sealed for this browser, or has expired.
pub fn stale_form() -> Stop {
    Stop::message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "It was not sent from this browser, or too long ago. Go back to the application and start again.",
    )
}

/// A form posted by one of the provider's pages: counted against the pages' limit, read, and its
/// CSRF token the browser's CSRF cookie (double submit), or the form is stale.
pub struct Posted {
    pub fields: HashMap<String, String>,
    pub csrf_token: String,
}

impl Posted {
    pub async fn read(app: &App, req: &Request, cx: &Cx) -> std::result::Result<Posted, Stop> {
        limit(app, cx).await?;
        let fields = http::page_form(req).ok_or_else(stale_form)?;
        let csrf_token = fields.get("csrf_token").cloned().unwrap_or_default();
        let cookie = csrf_value(req, &cx.tenant).unwrap_or_default();
        if cookie.is_empty() || !bool::from(cookie.as_bytes().ct_eq(csrf_token.as_bytes())) {
            return Err(stale_form());
        }
        Ok(Posted { fields, csrf_token })
    }

    pub fn get(&self, name: &str) -> Option<&String> {
        self.fields.get(name)
    }

    /// The authorization request the form carries, sealed for this browser (its CSRF token), and
    /// the user a consent page was shown to.
    pub async fn request(
        &self,
        app: &App,
        req: &Request,
        tenant: &Tenant,
    ) -> std::result::Result<(String, AuthorizationRequest, Option<UserId>), Stop> {
        let sealed = self.get("request").cloned().unwrap_or_default();
        let cookie = csrf_value(req, tenant);
        let opened = authorize::open(app, tenant, &sealed, &self.csrf_token, cookie.as_deref()).await?;
        let (request, shown_to) = opened.ok_or_else(stale_form)?;
        Ok((sealed, request, shown_to))
    }
}

// ----- cookies -------------------------------------------------------------------------------------

/// The provider's browser session (per app: `__Host-` cookies must be `Path=/`, and every app
/// shares the host).
pub fn session_cookie_name(tenant: &Tenant) -> String {
    format!("__Host-op-{}", tenant.id)
}

fn csrf_cookie_name(tenant: &Tenant) -> String {
    format!("__Host-op-csrf-{}", tenant.id)
}

/// The authorization a sign-in by a social provider or a magic link will come back to: the sealed
/// request, and the PKCE verifier of the social sign-in's one-time code.
fn pending_cookie_name(tenant: &Tenant) -> String {
    format!("__Host-op-pending-{}", tenant.id)
}

/// `None` when the request is too large for a cookie (browsers drop cookies over 4 KiB silently).
pub fn pending_cookie(app: &App, tenant: &Tenant, sealed: &str, verifier: Option<&str>) -> Option<String> {
    let age = app.config.social.state_lifetime.as_secs() as i64;
    let cookie = cookies::host(
        pending_cookie_name(tenant),
        format!("{}~{sealed}", verifier.unwrap_or_default()),
        Some(age),
    );
    (cookie.len() <= 4000).then_some(cookie)
}

/// The page for a request too large to wait in a cookie.
pub fn too_large() -> Stop {
    Stop::message(
        StatusCode::BAD_REQUEST,
        "This sign-in cannot continue another way",
        "The application's request is too long to wait while you sign in with a provider or a link. Use your password, or ask the application to send a shorter request.",
    )
}

pub fn pending_cookie_cleared(tenant: &Tenant) -> String {
    cookies::host(pending_cookie_name(tenant), String::new(), Some(0))
}

/// The pending authorization's sealed request and verifier, from the browser's cookie.
pub fn pending_value(req: &Request, tenant: &Tenant) -> Option<(String, Option<String>)> {
    let value = cookies::read(req, &pending_cookie_name(tenant))?;
    let (verifier, sealed) = value.split_once('~')?;
    Some((sealed.to_owned(), Some(verifier.to_owned()).filter(|v| !v.is_empty())))
}

pub fn session_cookie(app: &App, tenant: &Tenant, value: String) -> String {
    let age = app.config.social.browser_session_lifetime.as_secs() as i64;
    cookies::host(session_cookie_name(tenant), value, Some(age))
}

pub fn session_cookie_cleared(tenant: &Tenant) -> String {
    cookies::host(session_cookie_name(tenant), String::new(), Some(0))
}

/// The CSRF token of a page's forms: the browser's CSRF cookie, or a new one; the cookie is sent
/// again with every page, so it lives as long as the newest page's sealed request.
pub fn csrf_for_page(app: &App, req: &Request, tenant: &Tenant) -> (String, String) {
    let value = csrf_value(req, tenant).unwrap_or_else(|| shared::crypto::new_token().0);
    let age = app.config.social.state_lifetime.as_secs() as i64;
    (value.clone(), cookies::host(csrf_cookie_name(tenant), value, Some(age)))
}

/// Where a social provider's sign-in page is: the origin its authorization endpoint lives at.
fn provider_origin(app: &App, provider: shared::social::ProviderId) -> String {
    use shared::social::ProviderId;
    let social = &app.config.social;
    match provider {
        ProviderId::Google => social.google_issuer.clone(),
        ProviderId::Apple => social.apple_issuer.clone(),
        ProviderId::GitHub => social.github_oauth_url.clone(),
    }
}

pub fn session_value(req: &Request, tenant: &Tenant) -> Option<String> {
    cookies::read(req, &session_cookie_name(tenant))
}

pub fn csrf_value(req: &Request, tenant: &Tenant) -> Option<String> {
    cookies::read(req, &csrf_cookie_name(tenant))
}

// ----- what comes next -----------------------------------------------------------------------------

/// An authorization's step as its page shows it: the client, the request, and on the login page
/// the reason the last attempt failed or a notice ("check your email").
pub struct Step<'a> {
    pub client: &'a OAuthClientRecord,
    pub request: &'a AuthorizationRequest,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// Cookies the answer sets, whatever it is (the browser session, the pending cookie cleared).
    pub cookies: Vec<String>,
    /// A first factor just checked: the page asks for the second.
    pub second_factor: Option<SecondFactorView>,
}

impl<'a> Step<'a> {
    pub fn new(client: &'a OAuthClientRecord, request: &'a AuthorizationRequest) -> Self {
        Step { client, request, error: None, notice: None, cookies: Vec::new(), second_factor: None }
    }
}

/// The page or redirect an authorization's next step is. A page's forms carry the request sealed
/// for this browser; the browser gets a CSRF cookie when it has none.
pub async fn show(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    step: Step<'_>,
    next: std::result::Result<Next, Refusal>,
) -> PageResult {
    let mut step = step;
    let mut cookies = std::mem::take(&mut step.cookies);
    let reply = match next {
        // The refusal's page keeps the step's cookies (a session started, a pending one cleared).
        Err(refusal) => answer(tenant, Err(refusal.into()))?,
        Ok(Next::Done(url)) => Reply::redirect(url),
        Ok(next) => {
            let (csrf, csrf_cookie) = csrf_for_page(app, req, tenant);
            let nonce = nonce();
            let reply = match next {
                Next::Consent { user, .. } => consent_page(app, tenant, &step, &user, &csrf, &nonce).await?,
                // `acr_values=aal2` and a one-factor sign-in: the second factor, if the user has one.
                Next::SecondFactor { user, authn } => {
                    match shared::oauth::browser::step_up(app, tenant, &user, &authn).await? {
                        Some(pending) => {
                            step.second_factor = Some(SecondFactorView::from(&pending));
                            second_factor_page(app, tenant, &step, &csrf, &nonce).await?
                        }
                        None => {
                            let r = step.request;
                            let url = authorize::error_redirect(
                                tenant,
                                &r.redirect_uri,
                                r.state.as_deref(),
                                "unmet_authentication_requirements",
                                "the user has no second factor",
                            );
                            return Ok(cookies.into_iter().fold(Reply::redirect(url), Reply::cookie));
                        }
                    }
                }
                _ if step.second_factor.is_some() => {
                    second_factor_page(app, tenant, &step, &csrf, &nonce).await?
                }
                _ => login_page(app, tenant, &step, &csrf, &nonce).await?,
            };
            cookies.push(csrf_cookie);
            reply
        }
    };
    Ok(cookies.into_iter().fold(reply, Reply::cookie))
}

async fn login_page(app: &App, tenant: &Tenant, step: &Step<'_>, csrf: &str, nonce: &str) -> Result<Reply> {
    let request = step.request;
    let sealed = authorize::seal(app, tenant, request, csrf, None).await?;
    let email = request.login_hint.clone().unwrap_or_default();
    let configured = shared::social::configured(app, tenant).await?;
    // The social buttons' form is redirected to the provider: its origin is a form target.
    let mut targets = vec![request.redirect_uri.clone()];
    targets.extend(configured.iter().map(|p| provider_origin(app, *p)));
    let providers =
        configured.into_iter().map(|p| ProviderButton { id: p.as_str(), name: p.name() }).collect();
    let app_name = tenant.settings.name.as_str();
    let body = LoginPage {
        nonce,
        app_name,
        app_initial: initial(app_name),
        client_name: &step.client.settings.name,
        login_action: format!("{}/oauth/authorize/login", tenant.issuer),
        request: &sealed,
        csrf_token: csrf,
        email: &email,
        error: step.error,
        notice: step.notice,
        providers,
    }
    .render();
    page(if step.error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK }, body, nonce, &targets)
}

/// After a first factor at the login page (or the second): the authorization goes on with the
/// browser session, or the page asks for the second factor.
pub async fn signed_in(
    app: &App,
    req: &Request,
    cx: &Cx,
    client: &OAuthClientRecord,
    request: &AuthorizationRequest,
    signed: shared::oauth::browser::BrowserSignIn,
    mut cookies: Vec<String>,
) -> PageResult {
    use shared::oauth::browser::BrowserSignIn;
    let tenant = &cx.tenant;
    match signed {
        BrowserSignIn::Session { user, cookie, authn } => {
            let next =
                authorize::next(app, tenant, client, request, Some((user, authn)), true, &cx.client).await;
            cookies.push(session_cookie(app, tenant, cookie));
            show(app, req, tenant, Step { cookies, ..Step::new(client, request) }, next).await
        }
        BrowserSignIn::SecondFactor { pending } => {
            let second_factor = Some(SecondFactorView::from(&pending));
            show(
                app,
                req,
                tenant,
                Step { cookies, second_factor, ..Step::new(client, request) },
                Ok(Next::Login),
            )
            .await
        }
    }
}

async fn second_factor_page(
    app: &App,
    tenant: &Tenant,
    step: &Step<'_>,
    csrf: &str,
    nonce: &str,
) -> Result<Reply> {
    let Some(second) = &step.second_factor else {
        return Err(Error::Internal("a second factor page without its step".into()));
    };
    let sealed = authorize::seal(app, tenant, step.request, csrf, None).await?;
    let app_name = tenant.settings.name.as_str();
    let body = SecondFactorPage {
        nonce,
        app_name,
        app_initial: initial(app_name),
        client_name: &step.client.settings.name,
        login_action: format!("{}/oauth/authorize/login", tenant.issuer),
        request: &sealed,
        csrf_token: csrf,
        mfa_token: &second.mfa_token,
        has_totp: second.has_totp,
        has_codes: second.has_codes,
        error: step.error,
    }
    .render();
    let status = if step.error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    page(status, body, nonce, std::slice::from_ref(&step.request.redirect_uri))
}

async fn consent_page(
    app: &App,
    tenant: &Tenant,
    step: &Step<'_>,
    user: &UserRecord,
    csrf: &str,
    nonce: &str,
) -> Result<Reply> {
    let Step { client, request, .. } = step;
    let sealed = authorize::seal(app, tenant, request, csrf, Some(&user.user_id)).await?;
    let app_name = tenant.settings.name.as_str();
    let body = ConsentPage {
        nonce,
        app_name,
        app_initial: initial(app_name),
        client_name: &client.settings.name,
        consent_action: format!("{}/oauth/authorize/consent", tenant.issuer),
        request: &sealed,
        csrf_token: csrf,
        scopes: request.scopes.iter().map(|s| authorize::scope_words(tenant, s)).collect(),
        email: &user.email,
    }
    .render();
    page(StatusCode::OK, body, nonce, std::slice::from_ref(&request.redirect_uri))
}
