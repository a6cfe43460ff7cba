//! `POST /oauth/revoke` (RFC 7009): an authenticated client revokes a token it holds; always 200
//! for a valid client, whatever the token was.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::oauth::token::{self, OAuthError};

use crate::http::{Cx, Reply};
use crate::oauth_edge;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_edge::answer(
        async {
            token::limit(&app, &cx.tenant, &cx.client).await?;
            let form = oauth_edge::form(&req)?;
            let client = token::authenticate(&app, &cx.tenant, &oauth_edge::presented(&req, &form)?).await?;
            let presented =
                form.get("token").ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))?;
            token::revoke(&app, &cx.tenant, &client, presented).await?;
            Ok(json!({}))
        }
        .await,
    )
}
