//! `POST /oauth/authorize/login`: the login page's forms. `method` picks the way in:
//! - the password (none, or `password`): a correct one starts the provider's browser session (its
//!   `__Host-` cookie) and the authorization goes on (consent page, or back to the client); a
//!   wrong one shows the page again with the reason;
//! - `google`, `github`, `apple`: off to the provider, back at `/oauth/authorize/continue`;
//! - `magic_link`: a sign-in link is mailed, leading to `/oauth/authorize/continue`;
//! - `magic_link_verify`: the button of the page that link opens;
//! - `second_factor`: the second-factor page's code or recovery code, with its `mfa_token`.
//!
//! A user with a second factor (or of an app that requires one) gets the second-factor page after
//! the first, and the browser session only after both.
//!
//! Each form carries the authorization request sealed for this browser and its CSRF token.

use std::str::FromStr;
use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::App;
use shared::domain::Email;
use shared::error::{Error, Result};
use shared::mfa::Answer;
use shared::oauth::authorize::{self, Next};
use shared::oauth::browser::{self, BrowserSignIn};
use shared::ratelimit::Route;
use shared::social::ProviderId;

use crate::edge::cookies;
use crate::edge::http::{Cx, Reply};
use crate::edge::page::{PageResult, Stop};
use crate::provider::pages::{self, Posted, SecondFactorView, Step};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    pages::answer(&cx.tenant, login(&app, &req, &cx).await)
}

/// A first (or second) factor that worked, and the cookies its way in sets.
struct SignedIn {
    signed: BrowserSignIn,
    cookies: Vec<String>,
}

async fn login(app: &App, req: &Request, cx: &Cx) -> PageResult {
    let tenant = &cx.tenant;
    let form = Posted::read(app, req, cx).await?;
    let (sealed, request, _) = form.request(app, req, tenant).await?;
    let client = pages::client_of(app, tenant, &request).await?;
    let mut shown = request.clone();
    // As the authorization request's own login_hint: capped, so the sealed request stays small.
    let typed = form.get("email").map(|e| e.chars().take(authorize::MAX_HINT_CHARS).collect::<String>());
    shown.login_hint = typed.or(shown.login_hint);
    let login_page = |error: Option<&'static str>, notice: Option<&'static str>, cookies: Vec<String>| {
        let step = Step { error, notice, cookies, ..Step::new(&client, &shown) };
        pages::show(app, req, tenant, step, Ok(Next::Login))
    };
    let email = form.get("email").and_then(|e| Email::parse(e).ok());
    let method = form.get("method").map(String::as_str).unwrap_or("password");
    if let Ok(provider) = ProviderId::from_str(method) {
        return social(app, cx, &client.settings.name, &sealed, provider).await;
    }
    let outcome = match method {
        "password" => match email {
            Some(email) => {
                let password = form.get("password").cloned().unwrap_or_default();
                browser::sign_in(app, tenant, &email, &password, &client.client_id, &cx.client)
                    .await
                    .map(|signed| SignedIn { signed, cookies: Vec::new() })
            }
            None => Err(Error::InvalidCredentials),
        },
        "magic_link" => {
            let Some(email) = email else {
                return login_page(
                    Some("Enter a valid email address for the sign-in link."),
                    None,
                    Vec::new(),
                )
                .await;
            };
            let pending = mail_link(app, cx, &sealed, &email).await?;
            let notice =
                "If an account can use this address, a sign-in link is on its way. Open it in this browser.";
            return login_page(None, Some(notice), vec![pending]).await;
        }
        "magic_link_verify" => magic_link_verify(app, req, cx, &form).await?,
        "second_factor" => {
            let mfa_token = form.get("mfa_token").cloned().unwrap_or_default();
            let answer = match (form.get("code"), form.get("recovery_code")) {
                (Some(code), _) => Answer::AnyCode(code),
                (None, Some(code)) => Answer::RecoveryCode(code),
                (None, None) => Answer::AnyCode(""),
            };
            match browser::second_factor(app, tenant, &mfa_token, answer, &cx.client).await {
                Ok((user, cookie, authn)) => Ok(SignedIn {
                    signed: BrowserSignIn::Session { user, cookie, authn },
                    cookies: Vec::new(),
                }),
                // A wrong code: the same page again, the same token (its attempts are counted).
                Err(Error::InvalidMfaCode) => {
                    let second_factor = Some(SecondFactorView { mfa_token, has_totp: true, has_codes: true });
                    let error = Some("That code is not right, or was used already. Try the next one.");
                    let step = Step { error, second_factor, ..Step::new(&client, &shown) };
                    return pages::show(app, req, tenant, step, Ok(Next::Login)).await;
                }
                Err(Error::RateLimited { .. }) => {
                    return login_page(
                        Some("Too many wrong codes. Wait a few minutes, then sign in again."),
                        None,
                        Vec::new(),
                    )
                    .await;
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            return Err(Stop::message(
                StatusCode::BAD_REQUEST,
                "Unknown sign-in method",
                "Go back and choose one of the page's buttons.",
            ));
        }
    };
    let reason = match outcome {
        Ok(SignedIn { signed, cookies }) => {
            return pages::signed_in(app, req, cx, &client, &request, signed, cookies).await;
        }
        Err(Error::FactorRequired) => crate::provider::authorize_continue::ENROL_FIRST,
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
        Err(e) => return Err(e.into()),
    };
    login_page(Some(reason), None, Vec::new()).await
}

/// Mails a sign-in link that comes back to this browser's pending authorization and works only
/// with the secret this browser keeps in it; the pending cookie that holds both.
async fn mail_link(app: &App, cx: &Cx, sealed: &str, email: &Email) -> std::result::Result<String, Stop> {
    let tenant = &cx.tenant;
    let (secret, secret_hash) = shared::crypto::new_token();
    let pending = pages::pending_cookie(app, tenant, sealed, Some(&secret)).ok_or_else(pages::too_large)?;
    let page = Some(browser::continue_page(tenant));
    shared::recovery::request_magic_link(app, tenant, email, &cx.client, page, Some(secret_hash)).await?;
    Ok(pending)
}

/// The button of the page a mailed link opens. A service failure stops the page; a refused link
/// is the login page's reason.
async fn magic_link_verify(
    app: &App,
    req: &Request,
    cx: &Cx,
    form: &Posted,
) -> std::result::Result<Result<SignedIn>, Stop> {
    let tenant = &cx.tenant;
    let token = form.get("token").cloned().unwrap_or_default();
    // As the API's magic-link verification: guessed tokens are counted per address.
    shared::ratelimit::hit(app, &tenant.id, Route::VerifyEmail, &cx.client, None).await?;
    // Always a browser here: without its secret (no link asked for in it) it holds none of the
    // links, and a link asked for by the API is not for a browser at all.
    let secret = pages::pending_value(req, tenant).and_then(|(_, secret)| secret).unwrap_or_default();
    let user =
        match shared::recovery::consume_magic_link(app, tenant, &token, Some(&secret), &cx.client).await {
            Ok(user) => user,
            Err(e) => return Ok(Err(e)),
        };
    Ok(browser::signed_in_otherwise(app, tenant, &user, "magic_link", &cx.client)
        .await
        .map(|signed| SignedIn { signed, cookies: vec![pages::pending_cookie_cleared(tenant)] }))
}

/// Off to a social provider: its sign-in ends at the provider's continue page with a one-time
/// code bound to a PKCE verifier that only this browser's pending cookie holds.
async fn social(app: &App, cx: &Cx, client_name: &str, sealed: &str, provider: ProviderId) -> PageResult {
    let tenant = &cx.tenant;
    let (verifier, _) = shared::crypto::new_token();
    let pending = pages::pending_cookie(app, tenant, sealed, Some(&verifier)).ok_or_else(pages::too_large)?;
    let challenge = shared::crypto::pkce_challenge(&verifier);
    let page = Some(browser::continue_page(tenant));
    let started = match shared::social::start(app, tenant, provider, page, Some(challenge), &cx.client).await
    {
        Ok(started) => started,
        Err(Error::NotFound | Error::Validation(_)) => {
            return Err(Stop::message(
                StatusCode::BAD_REQUEST,
                "This provider is not available",
                format!("Go back to {client_name} and choose another way to sign in."),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Reply::redirect(started.authorization_url)
        .cookie(cookies::oauth_state_cookie(&app.config, tenant, provider, &started.state))
        .cookie(pending))
}
