//! `POST /oauth/logout`: the sign-out page's button (RP-initiated logout that the user confirms).
//! Its CSRF token must be the browser's CSRF cookie; the `post_logout_redirect_uri` is checked
//! again against the client's registered ones.

use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::App;
use shared::error::Result;
use shared::ids::ClientId;
use subtle::ConstantTimeEq;

use crate::edge::http::{self, Cx, Reply};
use crate::provider::{logout, pages};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = &cx.tenant;
    if let Err(e) = pages::limit(&app, &cx).await {
        return pages::failure(tenant, e);
    }
    let Some(form) = http::page_form(&req) else { return pages::stale_form(tenant) };
    let token = form.get("csrf_token").cloned().unwrap_or_default();
    let cookie = pages::csrf_value(&req, tenant).unwrap_or_default();
    if cookie.is_empty() || !bool::from(cookie.as_bytes().ct_eq(token.as_bytes())) {
        return pages::stale_form(tenant);
    }
    let target = match (
        form.get("client_id").and_then(|c| ClientId::parse(c)),
        form.get("post_logout_redirect_uri"),
    ) {
        (Some(client_id), Some(uri)) => match logout::registered(&app, tenant, &client_id, uri).await {
            Ok(true) => Some(uri.clone()),
            Ok(false) => {
                return pages::message(
                    tenant,
                    StatusCode::BAD_REQUEST,
                    "This sign-out request cannot be used",
                    "The post_logout_redirect_uri is not one the application registered.",
                );
            }
            Err(e) => return pages::failure(tenant, e),
        },
        _ => None,
    };
    let state = form.get("state").cloned().filter(|s| !s.is_empty());
    logout::signed_out(&app, &req, &cx, target, state).await
}
