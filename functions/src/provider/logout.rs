//! `GET /oauth/logout` (OIDC RP-Initiated Logout 1.0, the `end_session_endpoint`): ends the
//! provider's browser session, then sends the browser to the client's `post_logout_redirect_uri`
//! (an exact match with one it registered, named by `client_id` or the `id_token_hint`'s audience)
//! with its `state`, or shows a "signed out" page.
//!
//! Only an `id_token_hint` for the signed-in user (or no one signed in) proves the request comes
//! from the user's own client; otherwise any site could sign the user out, so the user is asked
//! first (section 2: the OP SHOULD ask) with a CSRF-protected form (`logout_confirm`).

use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::Result;
use shared::ids::ClientId;
use shared::oauth::authorize;
use shared::oauth::browser;

use crate::edge::http::{Cx, Reply};
use crate::edge::page::{PageResult, Stop};
use crate::provider::pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    pages::answer(&cx.tenant, logout(&app, &req, &cx).await)
}

async fn logout(app: &App, req: &Request, cx: &Cx) -> PageResult {
    let tenant = &cx.tenant;
    pages::limit(app, cx).await?;
    let query = req.query_string_parameters();
    let get = |name: &str| query.first(name).filter(|v| !v.is_empty()).map(str::to_owned);
    // The client: named, or the audience of the ID token it hints with (which must then agree).
    let hinted = match get("id_token_hint") {
        None => None,
        Some(hint) => {
            let verifier = app.verifier(shared::tokens::kid_of(&hint).as_deref()).await?;
            let claims = verifier.verify_id_token_hint(&hint, &tenant.issuer);
            let aud =
                claims.as_ref().and_then(|c| c.get("aud")).and_then(|a| a.as_str()).and_then(ClientId::parse);
            let sub = claims.as_ref().and_then(|c| c.get("sub")).and_then(|s| s.as_str()).map(str::to_owned);
            Some(aud.zip(sub).ok_or_else(|| bad("The id_token_hint is not an ID token of this provider."))?)
        }
    };
    let named = match get("client_id") {
        None => None,
        Some(raw) => Some(ClientId::parse(&raw).ok_or_else(|| bad("The client_id is not known."))?),
    };
    if let (Some((h, _)), Some(n)) = (&hinted, &named)
        && h != n
    {
        return Err(bad("The client_id and the id_token_hint name different applications."));
    }
    let state = get("state");
    let target = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(client_id) = named.clone().or(hinted.as_ref().map(|(c, _)| c.clone())) else {
                return Err(bad("A post_logout_redirect_uri needs the client_id or an id_token_hint."));
            };
            let uri = registered(app, tenant, &client_id, &uri).await?;
            Some((client_id, uri))
        }
    };
    let session = pages::session_value(req, tenant);
    let signed_in = browser::browser_user(app, tenant, session.as_deref()).await?;
    let proven = match (signed_in.map(|(_, user)| user.user_id.to_string()), &hinted) {
        (None, _) => true,
        (Some(user), Some((_, sub))) => &user == sub,
        (Some(_), None) => false,
    };
    if proven {
        return signed_out(app, req, cx, target.map(|(_, uri)| uri), state).await;
    }
    let (csrf, csrf_cookie) = pages::csrf_for_page(app, req, tenant);
    let mut fields = vec![("csrf_token", csrf)];
    if let Some((client_id, uri)) = &target {
        fields.push(("client_id", client_id.to_string()));
        fields.push(("post_logout_redirect_uri", uri.clone()));
    }
    if let Some(state) = state {
        fields.push(("state", state));
    }
    let form =
        pages::ButtonForm { action: format!("{}/oauth/logout", tenant.issuer), fields, button: "Sign out" };
    let targets: Vec<String> = target.iter().map(|(_, uri)| uri.clone()).collect();
    let text = format!("Do you want to sign out of {}?", tenant.settings.name);
    Ok(pages::message_with(tenant, StatusCode::OK, "Sign out", &text, Some(form), &targets)?
        .cookie(csrf_cookie))
}

fn bad(text: &str) -> Stop {
    Stop::message(StatusCode::BAD_REQUEST, "This sign-out request cannot be used", text)
}

/// `uri`, when it is one of the client's `post_logout_redirect_uris` (exact match); otherwise
/// the page saying it is not.
pub async fn registered(
    app: &App,
    tenant: &shared::Tenant,
    client_id: &ClientId,
    uri: &str,
) -> std::result::Result<String, Stop> {
    let client = app.store.oauth_client(&tenant.id, client_id).await?;
    if client.is_some_and(|c| c.settings.post_logout_redirect_uris.iter().any(|u| u == uri)) {
        Ok(uri.to_owned())
    } else {
        Err(bad("The post_logout_redirect_uri is not one the application registered."))
    }
}

/// Ends the browser's session at the provider and sends it on.
pub async fn signed_out(
    app: &App,
    req: &Request,
    cx: &Cx,
    target: Option<String>,
    state: Option<String>,
) -> PageResult {
    let tenant = &cx.tenant;
    if let Some(cookie) = pages::session_value(req, tenant) {
        browser::end_browser_session(app, tenant, &cookie).await?;
    }
    let cleared = pages::session_cookie_cleared(tenant);
    let reply = match target {
        Some(uri) => {
            let params: Vec<(&str, &str)> = state.iter().map(|s| ("state", s.as_str())).collect();
            Reply::redirect(authorize::with_params(&uri, &params))
        }
        None => pages::message(tenant, StatusCode::OK, "You are signed out", "You can close this window.")?,
    };
    Ok(reply.cookie(cleared))
}
