//! The dashboard's `__Host-` cookies: the developer's console session, the CSRF token of the
//! forms, and the secret that binds a mailed sign-in link to the browser that asked for it.
//!
//! The session cookie holds the pair a login of the `console` app hands out (access token, then
//! refresh token): the same session record, revocation and rotation as the API's. A page checks
//! the access token as the authorizer would; once it has expired, the refresh token rotates (its
//! reuse is detected like any other), and the page sets the new pair. Signing out revokes the
//! session, so a copy of the cookie is dead from then on.

use lambda_http::Request;
use shared::audit::ClientInfo;
use shared::error::{Error, Result};
use shared::tokens::{Identity, IssuedPair};
use shared::{App, Tenant, accounts, sessions};
use subtle::ConstantTimeEq;

use crate::edge::cookies;

/// Named after the `console` app, whose session it holds (each app's cookies carry its id).
const SESSION: &str = "__Host-console-session";
const CSRF: &str = "__Host-console-csrf";
/// The secret of the sign-in links this browser asked for: a link works only beside it.
const SIGN_IN_LINK: &str = "__Host-console-link";

/// A developer signed in to the dashboard, and the renewed session cookie when the pair rotated.
pub struct SignedIn {
    pub who: Identity,
    pub renewed: Option<String>,
}

/// The developer of the request's session cookie; `None` without one, or with one whose session
/// has ended (signed out, revoked, expired, password changed).
pub async fn signed_in(
    app: &App,
    req: &Request,
    console: &Tenant,
    client: &ClientInfo,
) -> Result<Option<SignedIn>> {
    let Some(value) = cookies::read(req, SESSION) else { return Ok(None) };
    let Some((access, refresh)) = value.split_once('~') else { return Ok(None) };
    match accounts::authenticate(app, console, Some(access)).await {
        Ok(who) => return Ok(Some(SignedIn { who, renewed: None })),
        Err(Error::Unauthorized) => {}
        Err(e) => return Err(e),
    }
    let refreshed = match sessions::refresh(app, console, refresh, client).await {
        Ok(r) => r,
        Err(Error::Unauthorized) => return Ok(None),
        Err(e) => return Err(e),
    };
    let who = accounts::authenticate(app, console, Some(&refreshed.pair.access_token)).await?;
    Ok(Some(SignedIn { who, renewed: Some(session_cookie(console, &refreshed.pair)) }))
}

/// The session cookie of a new pair: as long-lived as its refresh token.
pub fn session_cookie(console: &Tenant, pair: &IssuedPair) -> String {
    let age = console.settings.refresh_token_ttl.as_secs() as i64;
    cookies::host(SESSION, format!("{}~{}", pair.access_token, pair.refresh_token), Some(age))
}

pub fn session_cleared() -> String {
    cookies::host(SESSION, String::new(), Some(0))
}

/// The CSRF token of this browser's forms, and the cookie to set when it has none yet.
pub fn csrf(req: &Request) -> (String, Option<String>) {
    match cookies::read(req, CSRF) {
        Some(token) => (token, None),
        None => {
            let token = shared::crypto::new_token().0;
            let cookie = cookies::host(CSRF, token.clone(), None);
            (token, Some(cookie))
        }
    }
}

/// Whether a form's token is this browser's CSRF cookie (double submit: a `__Host-` cookie cannot
/// be planted by a sibling domain, and another site cannot read it to copy it into its form).
pub fn csrf_matches(req: &Request, token: Option<&str>) -> bool {
    match (cookies::read(req, CSRF), token) {
        (Some(cookie), Some(token)) => bool::from(cookie.as_bytes().ct_eq(token.as_bytes())),
        _ => false,
    }
}

/// The binding of a sign-in link this browser asks for: the cookie that keeps its secret here (as
/// long as a link lives), and the secret's hash that the link is stored with. A browser that holds
/// one already keeps it, so a link it asked for before still works beside the new one.
pub fn sign_in_link_binding(app: &App, req: &Request) -> (String, String) {
    let secret = cookies::read(req, SIGN_IN_LINK).unwrap_or_else(|| shared::crypto::new_token().0);
    let hash = shared::crypto::token_hash(&secret);
    let age = app.config.magic_link_ttl.as_secs() as i64;
    (cookies::host(SIGN_IN_LINK, secret, Some(age)), hash)
}

/// The binding secret this browser holds (empty without one: it then holds no link).
pub fn sign_in_link_secret(req: &Request) -> String {
    cookies::read(req, SIGN_IN_LINK).unwrap_or_default()
}

pub fn sign_in_link_cleared() -> String {
    cookies::host(SIGN_IN_LINK, String::new(), Some(0))
}
