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
use shared::error::Result;
use shared::oauth::authorize::{self, Next};

use crate::edge::http::{Cx, Reply};
use crate::provider::pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = &cx.tenant;
    if let Err(e) = pages::limit(&app, &cx).await {
        return pages::failure(tenant, e);
    }
    let query = req.query_string_parameters();
    let get = |name: &str| query.first(name).filter(|v| !v.is_empty()).map(str::to_owned);
    let lost = || {
        pages::message(
            tenant,
            StatusCode::BAD_REQUEST,
            "This sign-in cannot continue here",
            "Open the link in the browser where you started signing in, or go back to the application and start again.",
        )
    };
    let Some((sealed, verifier)) = pages::pending_value(&req, tenant) else { return lost() };
    let csrf = pages::csrf_value(&req, tenant).unwrap_or_default();
    let request = match authorize::open(&app, tenant, &sealed, &csrf, Some(&csrf)).await {
        Ok(Some((request, _))) => request,
        Ok(None) => return lost(),
        Err(e) => return pages::failure(tenant, e),
    };
    let client = match app.store.oauth_client(&tenant.id, &request.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return lost(),
        Err(e) => return pages::failure(tenant, e),
    };
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
        return pages::message_with(
            tenant,
            StatusCode::OK,
            "Sign in with your link",
            &text,
            Some(form),
            &targets,
        );
    }
    let cleared = pages::pending_cookie_cleared(tenant);
    let login_again = |error: &'static str| {
        pages::show(
            &app,
            &req,
            tenant,
            &client,
            &request,
            Ok(Next::Login),
            Some(error),
            vec![cleared.clone()],
        )
    };
    let Some(code) = get("code") else {
        return login_again(
            "Signing in with the provider did not complete. Try again, or sign in another way.",
        )
        .await;
    };
    // Only a code bound to this browser's verifier: one made by a sign-in this page started.
    let Some(verifier) = verifier else { return lost() };
    let user = match shared::social::redeem(&app, tenant, &code, Some(&verifier), &cx.client).await {
        Ok(user) => user,
        Err(shared::error::Error::InvalidToken) => {
            return login_again("That sign-in expired. Try again.").await;
        }
        Err(shared::error::Error::AccountDisabled) => return login_again("This account is disabled.").await,
        Err(shared::error::Error::AccountPendingDeletion) => {
            return login_again("This account is being deleted.").await;
        }
        Err(e) => return pages::failure(tenant, e),
    };
    let (cookie, auth_time) =
        match authorize::signed_in_otherwise(&app, tenant, &user, "social", &cx.client).await {
            Ok(started) => started,
            Err(e) => return pages::failure(tenant, e),
        };
    let next =
        authorize::next(&app, tenant, &client, &request, Some((user, auth_time)), true, &cx.client).await;
    let cookies = vec![cleared, pages::session_cookie(&app, tenant, cookie)];
    pages::show(&app, &req, tenant, &client, &request, next, None, cookies).await
}
