//! `POST /oauth/logout`: the sign-out page's button (RP-initiated logout that the user confirms).
//! Its CSRF token must be the browser's CSRF cookie; the `post_logout_redirect_uri` is checked
//! again against the client's registered ones.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::ids::ClientId;

use crate::edge::http::{Cx, Reply};
use crate::edge::page::PageResult;
use crate::provider::logout;
use crate::provider::pages::{self, Posted};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    pages::answer(&cx.tenant, confirmed(&app, &req, &cx).await)
}

async fn confirmed(app: &App, req: &Request, cx: &Cx) -> PageResult {
    let form = Posted::read(app, req, cx).await?;
    let client_id = form.get("client_id").and_then(|c| ClientId::parse(c));
    let target = match (client_id, form.get("post_logout_redirect_uri")) {
        (Some(client_id), Some(uri)) => Some(logout::registered(app, &cx.tenant, &client_id, uri).await?),
        _ => None,
    };
    let state = form.get("state").cloned().filter(|s| !s.is_empty());
    logout::signed_out(app, req, cx, target, state).await
}
