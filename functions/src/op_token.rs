//! `POST /oauth/token` of an app's OAuth provider (RFC 6749 section 3.2): the
//! `client_credentials` grant for confidential clients, with `client_secret_basic` or
//! `client_secret_post`.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::oauth::token::{self, OAuthError};

use crate::http::{Cx, Reply};
use crate::oauth_edge;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_edge::answer(
        async {
            let (form, client) = oauth_edge::authenticated(&app, &req, &cx).await?;
            match form.get("grant_type").map(String::as_str) {
                Some("client_credentials") => {
                    let scope = form.get("scope").map(String::as_str);
                    token::client_credentials(&app, &cx.tenant, &client, scope).await
                }
                Some(_) => Err(OAuthError::UnsupportedGrantType),
                None => Err(OAuthError::InvalidRequest("grant_type is required".into())),
            }
        }
        .await,
    )
}
