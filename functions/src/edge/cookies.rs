//! The cookies the service sets on a browser: the refresh-token cookie (`REFRESH_TOKEN_COOKIE=true`)
//! and the CSRF rule for requests that authenticate with it, the social sign-in's state, and the
//! `__Host-` cookies of the OAuth provider's pages and the dashboard.
//!
//! Every cookie but the refresh cookie is a `__Host-` cookie (Secure, `Path=/`, no `Domain`), which
//! a sibling subdomain cannot set. The refresh cookie keeps the contract's name and path (a
//! `__Host-` cookie must have `Path=/`, and this one must reach only refresh and logout); a copy
//! of it planted beside ours is refused, as for every cookie (`read`).
//!
//! The cookie is `HttpOnly` (no script reads it), `Secure`, `SameSite=Strict` and scoped to the
//! app's `<base path>/api/v1/auth`, where only refresh and logout read it: two apps on one host
//! never see each other's cookie. Because a browser attaches it to any request to that path, a
//! request that relies on it must also show that it comes from the app's own front end: an
//! `Origin` among the app's CORS origins, or (no `Origin` at all) an `X-Requested-With` header,
//! which a cross-site form cannot send.

use cookie::{Cookie, SameSite};
use lambda_http::Request;
use lambda_http::http::header;
use shared::Tenant;
use shared::config::Config;
use shared::social::ProviderId;

pub const REFRESH: &str = "refresh_token";
/// Under the app's base path.
const PATH: &str = "/api/v1/auth";

/// The app's refresh cookie, valid as long as its refresh tokens.
pub fn refresh_cookie(tenant: &Tenant, token: &str) -> String {
    let max_age_seconds = tenant.settings.refresh_token_ttl.as_secs();
    let max_age = cookie::time::Duration::seconds(i64::try_from(max_age_seconds).unwrap_or(i64::MAX));
    attributes(tenant, Cookie::build((REFRESH, token.to_owned())).max_age(max_age))
}

/// The cookie that binds a sign-in's `mfa_token` to the browser that signed in (cookie mode):
/// scoped like the refresh cookie, five minutes.
pub const MFA: &str = "mfa_binding";

pub fn mfa_cookie(tenant: &Tenant, secret: &str) -> String {
    let max_age = cookie::time::Duration::seconds(shared::mfa::MFA_TOKEN_SECONDS);
    attributes(tenant, Cookie::build((MFA, secret.to_owned())).max_age(max_age))
}

/// Tells the browser to forget a second step's binding cookie.
pub fn mfa_cleared(tenant: &Tenant) -> String {
    attributes(tenant, Cookie::build((MFA, "")).max_age(cookie::time::Duration::ZERO))
}

/// Tells the browser to forget the app's refresh cookie.
pub fn cleared(tenant: &Tenant) -> String {
    attributes(tenant, Cookie::build((REFRESH, "")).max_age(cookie::time::Duration::ZERO))
}

fn attributes(tenant: &Tenant, cookie: cookie::CookieBuilder<'static>) -> String {
    let path = format!("{}{PATH}", tenant.base_path());
    cookie.path(path).http_only(true).secure(true).same_site(SameSite::Strict).build().to_string()
}

/// A cookie's value from the request's `Cookie` header(s); a malformed pair is skipped. A name
/// the request carries twice is no cookie at all: the second copy was planted (cookie tossing: a
/// sibling subdomain's cookie, or one of a narrower path, arrives beside ours) and which one is
/// ours cannot be told.
pub fn read(req: &Request, name: &str) -> Option<String> {
    let mut found = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).filter_map(Result::ok).collect::<Vec<_>>())
        .filter(|c| c.name() == name);
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(first.value().trim().to_owned()).filter(|v| !v.is_empty())
}

/// Whether a cookie-authenticated request may proceed (see the module documentation). A foreign
/// `Origin` is refused whatever else the request carries.
pub fn same_site_request(req: &Request, tenant: &Tenant) -> bool {
    let header_value = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    match header_value("origin") {
        Some(origin) => tenant.settings.cors_origins.iter().any(|o| o == origin.trim_end_matches('/')),
        None => header_value("x-requested-with").is_some_and(|v| !v.is_empty()),
    }
}

/// Login CSRF: in cookie mode a sign-in sets the refresh cookie, so a cross-site form that posts an
/// attacker's credentials would sign the victim's browser into the attacker's account. A sign-in
/// therefore meets the same rule as a request that uses the cookie.
pub fn guard_sign_in(req: &Request, config: &Config, tenant: &Tenant) -> shared::error::Result<()> {
    if config.refresh_token_cookie && !same_site_request(req, tenant) {
        return Err(shared::error::Error::Forbidden);
    }
    Ok(())
}

/// The state cookie of a social sign-in in progress at one app with one provider, bound to the
/// browser that started it: a `__Host-` cookie (no sibling subdomain can plant one), named after
/// the app and the provider, so that sign-ins at two apps or with two providers in one browser
/// keep apart.
pub fn oauth_state_name(tenant: &Tenant, provider: ProviderId) -> String {
    format!("__Host-oauth-state-{}-{}", tenant.id, provider.as_str())
}

/// The state cookie set with the redirect to the provider: HttpOnly and Secure, alive as long as
/// the state. The provider's redirect back is a top-level GET, which a `SameSite=Lax` cookie
/// reaches; Apple's `form_post` is a cross-site POST, which only `SameSite=None` reaches.
pub fn oauth_state_cookie(config: &Config, tenant: &Tenant, provider: ProviderId, state: &str) -> String {
    let max_age = cookie::time::Duration::seconds(config.social.state_lifetime.as_secs() as i64);
    state_cookie(tenant, provider, state.to_owned(), max_age)
}

/// Tells the browser to forget the state cookie (the callback consumed the state).
pub fn oauth_state_cleared(tenant: &Tenant, provider: ProviderId) -> String {
    state_cookie(tenant, provider, String::new(), cookie::time::Duration::ZERO)
}

fn state_cookie(
    tenant: &Tenant,
    provider: ProviderId,
    value: String,
    max_age: cookie::time::Duration,
) -> String {
    let same_site = match provider {
        ProviderId::Apple => SameSite::None,
        _ => SameSite::Lax,
    };
    Cookie::build((oauth_state_name(tenant, provider), value))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(same_site)
        .max_age(max_age)
        .build()
        .to_string()
}

/// A `__Host-` cookie (the OAuth provider's pages, the dashboard): Secure, `Path=/`, no Domain (no
/// sibling domain can set or read it), HttpOnly, `SameSite=Lax` (it reaches the service on a
/// top-level navigation from another site: a client sending the browser over, a mailed link).
pub fn host(name: impl Into<std::borrow::Cow<'static, str>>, value: String, max_age: Option<i64>) -> String {
    let mut c = Cookie::build((name, value)).path("/").secure(true).http_only(true).same_site(SameSite::Lax);
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(age));
    }
    c.build().to_string()
}
