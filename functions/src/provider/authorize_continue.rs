//! `GET /oauth/authorize/continue`: where a sign-in started on the login page comes back to the
//! authorization in progress (the browser's pending cookie holds it, sealed):
//! - from a social provider, with `code` (the one-time code, redeemed with the PKCE verifier only
//!   this browser holds) or `error`;
//! - from a magic link, with `token`: a page whose button signs in (a mail scanner that follows
//!   the link consumes nothing).

use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::{Error, Result};
use shared::oauth::authorize::{self, Next};
use shared::oauth::browser;

use crate::edge::http::{Cx, Reply};
use crate::edge::page::{PageResult, Stop};
use crate::provider::pages::{self, Step};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    pages::answer(&cx.tenant, continued(&app, &req, &cx).await)
}

/// This browser holds no authorization to continue.
fn lost() -> Stop {
    Stop::message(
        StatusCode::BAD_REQUEST,
        "This sign-in cannot continue here",
        "Open the link in the browser where you started signing in, or go back to the application and start again.",
    )
}

async fn continued(app: &App, req: &Request, cx: &Cx) -> PageResult {
    let tenant = &cx.tenant;
    pages::limit(app, cx).await?;
    let query = req.query_string_parameters();
    let get = |name: &str| query.first(name).filter(|v| !v.is_empty()).map(str::to_owned);
    let (sealed, verifier) = pages::pending_value(req, tenant).ok_or_else(lost)?;
    let csrf = pages::csrf_value(req, tenant).unwrap_or_default();
    let (request, _) = authorize::open(app, tenant, &sealed, &csrf, Some(&csrf)).await?.ok_or_else(lost)?;
    let client = app.store.oauth_client(&tenant.id, &request.client_id).await?.ok_or_else(lost)?;
    if let Some(token) = get("token") {
        let form = pages::ButtonForm {
            action: format!("{}/oauth/authorize/login", tenant.issuer),
            fields: vec![
                ("request", sealed),
                ("csrf_token", csrf),
                ("method", "magic_link_verify".to_owned()),
                ("token", token),
            ],
            button: "Continue",
        };
        let text = format!("Continue signing in to {}.", client.settings.name);
        let targets = [request.redirect_uri.clone()];
        return Ok(pages::message_with(
            tenant,
            StatusCode::OK,
            "Sign in with your link",
            &text,
            Some(form),
            &targets,
        )?);
    }
    let cleared = pages::pending_cookie_cleared(tenant);
    let login_again = |error: &'static str| {
        let step =
            Step { error: Some(error), cookies: vec![cleared.clone()], ..Step::new(&client, &request) };
        pages::show(app, req, tenant, step, Ok(Next::Login))
    };
    let Some(code) = get("code") else {
        return login_again(
            "Signing in with the provider did not complete. Try again, or sign in another way.",
        )
        .await;
    };
    // Only a code bound to this browser's verifier: one made by a sign-in this page started.
    let verifier = verifier.ok_or_else(lost)?;
    let user = match shared::social::redeem(app, tenant, &code, Some(&verifier), &cx.client).await {
        Ok(user) => user,
        Err(Error::InvalidToken) => return login_again("That sign-in expired. Try again.").await,
        Err(Error::AccountDisabled) => return login_again("This account is disabled.").await,
        Err(Error::AccountPendingDeletion) => return login_again("This account is being deleted.").await,
        Err(e) => return Err(e.into()),
    };
    let signed = match browser::signed_in_otherwise(app, tenant, &user, "social", &cx.client).await {
        Ok(signed) => signed,
        Err(Error::FactorRequired) => return login_again(ENROL_FIRST).await,
        Err(e) => return Err(e.into()),
    };
    pages::signed_in(app, req, cx, &client, &request, signed, vec![cleared]).await
}

/// What the login page says to a user of an app that requires a second factor who has none yet.
pub const ENROL_FIRST: &str = "This app asks for a second factor, and your account has none yet: set one up in the app, then sign in here.";
