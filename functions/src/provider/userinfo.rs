//! `GET /oauth/userinfo` (OIDC Core 5.3): the signed-in user's claims for an access token of the
//! app's provider granted `openid`, as its scopes allow.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::oauth::grants::{self, BearerError};

use crate::edge::http::{self, Cx, Reply};
use crate::edge::oauth_http;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_http::bearer_answer(match http::bearer(req.headers()) {
        Some(token) => grants::userinfo(&app, &cx.tenant, &token).await,
        None => Err(BearerError::InvalidToken),
    })
}
