//! `POST /oauth/authorize/login`: the login page's forms. `method` picks the way in:
//! - the password (none, or `password`): a correct one starts the provider's browser session (its
//!   `__Host-` cookie) and the authorization goes on (consent page, or back to the client); a
//!   wrong one shows the page again with the reason;
//! - `google`, `github`, `apple`: off to the provider, back at `/oauth/authorize/continue`;
//! - `magic_link`: a sign-in link is mailed, leading to `/oauth/authorize/continue`;
//! - `magic_link_verify`: the button of the page that link opens.
//!
//! Each form carries the authorization request sealed for this browser and its CSRF token.

use std::str::FromStr;
use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::App;
use shared::error::{Error, Result};
use shared::oauth::authorize::{self, AuthorizationRequest, Next};
use shared::ratelimit::Route;
use shared::social::ProviderId;

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};
use crate::provider::pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = &cx.tenant;
    if let Err(e) = pages::limit(&app, &cx).await {
        return pages::failure(tenant, e);
    }
    let Some(form) = http::page_form(&req) else { return pages::stale_form(tenant) };
    let sealed = form.get("request").cloned().unwrap_or_default();
    let csrf_token = form.get("csrf_token").cloned().unwrap_or_default();
    let opened =
        authorize::open(&app, tenant, &sealed, &csrf_token, pages::csrf_value(&req, tenant).as_deref()).await;
    let request = match opened {
        Ok(Some((request, _))) => request,
        Ok(None) => return pages::stale_form(tenant),
        Err(e) => return pages::failure(tenant, e),
    };
    let client = match pages::client_of(&app, tenant, &request).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let mut shown = request.clone();
    // As the authorization request's own login_hint: capped, so the sealed request stays small.
    let typed = form.get("email").map(|e| e.chars().take(authorize::MAX_HINT_CHARS).collect::<String>());
    shown.login_hint = typed.or(shown.login_hint);
    let login_page = |error: Option<&'static str>, notice: Option<&'static str>, cookies: Vec<String>| {
        pages::show_with(&app, &req, tenant, &client, &shown, Ok(Next::Login), error, notice, cookies)
    };
    let method = form.get("method").map(String::as_str).unwrap_or("password");
    if let Ok(provider) = ProviderId::from_str(method) {
        return social(&app, &cx, &client.settings.name, &request, &sealed, provider).await;
    }
    let outcome = match method {
        "password" => {
            let password = form.get("password").cloned().unwrap_or_default();
            match form.get("email").and_then(|e| shared::domain::Email::parse(e).ok()) {
                Some(email) => {
                    authorize::sign_in(&app, tenant, &email, &password, &client.client_id, &cx.client)
                        .await
                        .map(|(user, cookie, at)| (user, cookie, at, Vec::new()))
                }
                None => Err(Error::InvalidCredentials),
            }
        }
        "magic_link" => {
            let Some(email) = form.get("email").and_then(|e| shared::domain::Email::parse(e).ok()) else {
                return login_page(
                    Some("Enter a valid email address for the sign-in link."),
                    None,
                    Vec::new(),
                )
                .await;
            };
            // The link comes back to this browser's pending authorization, and works only with the
            // secret this browser keeps in it.
            let (secret, secret_hash) = shared::crypto::new_token();
            let Some(pending) = pages::pending_cookie(&app, tenant, &sealed, Some(&secret)) else {
                return pages::too_large(tenant);
            };
            let page = Some(authorize::continue_page(tenant));
            let requested = shared::recovery::request_magic_link(
                &app,
                tenant,
                &email,
                &cx.client,
                page,
                Some(secret_hash),
            );
            if let Err(e) = requested.await {
                return pages::failure(tenant, e);
            }
            let notice =
                "If an account can use this address, a sign-in link is on its way. Open it in this browser.";
            return login_page(None, Some(notice), vec![pending]).await;
        }
        "magic_link_verify" => {
            let token = form.get("token").cloned().unwrap_or_default();
            // As the API's magic-link verification: guessed tokens are counted per address.
            if let Err(e) =
                shared::ratelimit::hit(&app, &tenant.id, Route::VerifyEmail, &cx.client, None).await
            {
                return pages::failure(tenant, e);
            }
            // Always a browser here: without its secret (no link asked for in it) it holds none
            // of the links, and a link asked for by the API is not for a browser at all.
            let secret =
                pages::pending_value(&req, tenant).and_then(|(_, secret)| secret).unwrap_or_default();
            match shared::recovery::consume_magic_link(&app, tenant, &token, Some(&secret), &cx.client).await
            {
                Ok(user) => authorize::signed_in_otherwise(&app, tenant, &user, "magic_link", &cx.client)
                    .await
                    .map(|(cookie, at)| (user, cookie, at, vec![pages::pending_cookie_cleared(tenant)])),
                Err(e) => Err(e),
            }
        }
        _ => {
            return pages::message(
                tenant,
                StatusCode::BAD_REQUEST,
                "Unknown sign-in method",
                "Go back and choose one of the page's buttons.",
            );
        }
    };
    let reason = match outcome {
        Ok((user, cookie, auth_time, mut cookies)) => {
            let next =
                authorize::next(&app, tenant, &client, &request, Some((user, auth_time)), true, &cx.client)
                    .await;
            cookies.push(pages::session_cookie(&app, tenant, cookie));
            return pages::show(&app, &req, tenant, &client, &request, next, None, cookies).await;
        }
        Err(Error::InvalidCredentials) => "The email or password is not correct.",
        Err(Error::InvalidToken) => {
            "The sign-in link is invalid, expired or used already. Ask for a new one."
        }
        Err(Error::LoginLocked) => {
            "Too many failed attempts: password sign-in is locked for now. Use a sign-in link by email, or reset your password."
        }
        Err(Error::EmailNotVerified) => "Verify your email address first: follow the link we sent you.",
        Err(Error::AccountDisabled) => "This account is disabled.",
        Err(Error::AccountPendingDeletion) => "This account is being deleted.",
        Err(Error::Forbidden) => "New accounts cannot be created here.",
        Err(e) => return pages::failure(tenant, e),
    };
    login_page(Some(reason), None, Vec::new()).await
}

/// Off to a social provider: its sign-in ends at the provider's continue page with a one-time
/// code bound to a PKCE verifier that only this browser's pending cookie holds.
async fn social(
    app: &App,
    cx: &Cx,
    client_name: &str,
    _request: &AuthorizationRequest,
    sealed: &str,
    provider: ProviderId,
) -> Result<Reply> {
    let tenant = &cx.tenant;
    let (verifier, _) = shared::crypto::new_token();
    let Some(pending) = pages::pending_cookie(app, tenant, sealed, Some(&verifier)) else {
        return pages::too_large(tenant);
    };
    let challenge = shared::crypto::pkce_challenge(&verifier);
    let page = Some(authorize::continue_page(tenant));
    let started = match shared::social::start(app, tenant, provider, page, Some(challenge), &cx.client).await
    {
        Ok(started) => started,
        Err(Error::NotFound | Error::Validation(_)) => {
            return pages::message(
                tenant,
                StatusCode::BAD_REQUEST,
                "This provider is not available",
                &format!("Go back to {client_name} and choose another way to sign in."),
            );
        }
        Err(e) => return pages::failure(tenant, e),
    };
    Ok(Reply::redirect(started.authorization_url)
        .cookie(cookies::oauth_state_cookie(&app.config, tenant, provider, &started.state))
        .cookie(pending))
}
