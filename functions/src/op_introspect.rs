//! `POST /oauth/introspect` (RFC 7662): for an authenticated client of the app, whether a token
//! is live and what it carries; `{active: false}` for anything expired, revoked, of another app
//! or unknown.

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
            let form = oauth_edge::form(&req)?;
            token::authenticate(&app, &cx.tenant, &oauth_edge::presented(&req, &form)?).await?;
            let presented =
                form.get("token").ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))?;
            token::introspect(&app, &cx.tenant, presented).await
        }
        .await,
    )
}
