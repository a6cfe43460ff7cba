//! `POST /oauth/revoke` (RFC 7009): an authenticated client revokes a token it holds; always 200
//! for a valid client, whatever the token was.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::oauth::token;

use crate::http::{Cx, Reply};
use crate::oauth_edge;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_edge::answer(
        async {
            let (form, client) = oauth_edge::authenticated(&app, &req, &cx).await?;
            token::revoke(&app, &cx.tenant, &client, oauth_edge::required(&form, "token")?).await?;
            Ok(json!({}))
        }
        .await,
    )
}
