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

use crate::http::{Cx, Reply};
use crate::{op_logout, op_pages};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = &cx.tenant;
    if let Err(e) = op_pages::limit(&app, &cx).await {
        return op_pages::failure(tenant, e);
    }
    let Some(form) = op_pages::form(&req) else { return op_pages::stale_form(tenant) };
    let token = form.get("csrf_token").cloned().unwrap_or_default();
    let cookie = op_pages::csrf_value(&req, tenant).unwrap_or_default();
    if cookie.is_empty() || !bool::from(cookie.as_bytes().ct_eq(token.as_bytes())) {
        return op_pages::stale_form(tenant);
    }
    let target = match (
        form.get("client_id").and_then(|c| ClientId::parse(c)),
        form.get("post_logout_redirect_uri"),
    ) {
        (Some(client_id), Some(uri)) => match op_logout::registered(&app, tenant, &client_id, uri).await {
            Ok(true) => Some(uri.clone()),
            Ok(false) => {
                return op_pages::message(
                    tenant,
                    StatusCode::BAD_REQUEST,
                    "This sign-out request cannot be used",
                    "The post_logout_redirect_uri is not one the application registered.",
                );
            }
            Err(e) => return op_pages::failure(tenant, e),
        },
        _ => None,
    };
    let state = form.get("state").cloned().filter(|s| !s.is_empty());
    op_logout::signed_out(&app, &req, &cx, target, state).await
}
