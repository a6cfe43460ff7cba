//! `GET /oauth/logout` (OIDC RP-Initiated Logout 1.0, the `end_session_endpoint`): ends the
//! provider's browser session, then sends the browser to the client's `post_logout_redirect_uri`
//! (an exact match with one it registered, named by `client_id` or the `id_token_hint`'s audience)
//! with its `state`, or shows a "signed out" page.

use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::Result;
use shared::ids::ClientId;
use shared::oauth::authorize;

use crate::http::{Cx, Reply};
use crate::op_pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = &cx.tenant;
    let query = req.query_string_parameters();
    let get = |name: &str| query.first(name).filter(|v| !v.is_empty()).map(str::to_owned);
    let bad = |text: &str| {
        op_pages::message(tenant, StatusCode::BAD_REQUEST, "This sign-out request cannot be used", text)
    };
    // The client: named, or the audience of the ID token it hints with (which must then agree).
    let hinted = match get("id_token_hint") {
        None => None,
        Some(hint) => {
            let verifier = match app.verifier(shared::tokens::kid_of(&hint).as_deref()).await {
                Ok(v) => v,
                Err(e) => return op_pages::failure(tenant, e),
            };
            match verifier.verify_id_token_hint(&hint, &tenant.issuer) {
                Some(claims) => claims.get("aud").and_then(|a| a.as_str()).and_then(ClientId::parse),
                None => return bad("The id_token_hint is not an ID token of this provider."),
            }
        }
    };
    let named = match get("client_id") {
        None => None,
        Some(raw) => match ClientId::parse(&raw) {
            Some(id) => Some(id),
            None => return bad("The client_id is not known."),
        },
    };
    if let (Some(h), Some(n)) = (&hinted, &named)
        && h != n
    {
        return bad("The client_id and the id_token_hint name different applications.");
    }
    let target = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(client_id) = named.or(hinted) else {
                return bad("A post_logout_redirect_uri needs the client_id or an id_token_hint.");
            };
            let client = match app.store.oauth_client(&tenant.id, &client_id).await {
                Ok(c) => c,
                Err(e) => return op_pages::failure(tenant, e),
            };
            if !client.is_some_and(|c| c.settings.post_logout_redirect_uris.contains(&uri)) {
                return bad("The post_logout_redirect_uri is not one the application registered.");
            }
            Some(uri)
        }
    };
    if let Some(cookie) = op_pages::session_value(&req, tenant)
        && let Err(e) = authorize::end_browser_session(&app, tenant, &cookie).await
    {
        return op_pages::failure(tenant, e);
    }
    let cleared = op_pages::session_cookie_cleared(tenant);
    match target {
        Some(uri) => {
            let state = get("state");
            let params: Vec<(&str, &str)> = state.iter().map(|s| ("state", s.as_str())).collect();
            Ok(Reply::redirect(authorize::with_params(&uri, &params)).cookie(cleared))
        }
        None => {
            Ok(op_pages::message(tenant, StatusCode::OK, "You are signed out", "You can close this window.")?
                .cookie(cleared))
        }
    }
}
