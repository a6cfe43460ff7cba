//! `POST /oauth/revoke` (RFC 7009): an authenticated client revokes a token it holds; always 200
//! for a valid client, whatever the token was.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::oauth::token;

use crate::edge::http::{Cx, Reply};
use crate::edge::oauth_http;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_http::answer(
        async {
            let (form, client) = oauth_http::authenticated(&app, &req, &cx).await?;
            token::revoke(&app, &cx.tenant, &client, oauth_http::required(&form, "token")?).await?;
            Ok(json!({}))
        }
        .await,
    )
}
