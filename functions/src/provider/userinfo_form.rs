//! `POST /oauth/userinfo` (OIDC Core 5.3.1): as the GET, for clients that post. The token comes
//! in the `Authorization` header or, RFC 6750 section 2.2, as the form's `access_token` (the
//! OpenID conformance suite's `oidcc-userinfo-post-body`); never both, and never from the query
//! string, where logs and caches look.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::oauth::grants::{self, BearerError};

use crate::edge::http::{self, Cx, Reply};
use crate::edge::oauth_http;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_http::bearer_answer(match token(&req) {
        Ok(token) => grants::userinfo(&app, &cx.tenant, &token).await,
        Err(e) => Err(e),
    })
}

/// The one token the request presents.
fn token(req: &Request) -> std::result::Result<String, BearerError> {
    let in_body = if oauth_http::is_form(req) {
        let form = oauth_http::form(req).map_err(|e| BearerError::InvalidRequest(e.description()))?;
        form.get("access_token").cloned()
    } else {
        None
    };
    match (http::bearer(req.headers()), in_body) {
        (Some(_), Some(_)) => {
            Err(BearerError::InvalidRequest("the access token is sent in more than one way".into()))
        }
        (Some(token), None) | (None, Some(token)) => Ok(token),
        (None, None) => Err(BearerError::InvalidToken),
    }
}
