//! `POST /oauth/introspect` (RFC 7662): for an authenticated confidential client of the app,
//! whether one of its own tokens (any of the app's, for a client marked `introspect_any`) is live
//! and what it carries; `{active: false}` for anything expired, revoked, another client's, of
//! another app or unknown.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::model::ClientType;
use shared::oauth::protocol::OAuthError;
use shared::oauth::token;

use crate::edge::http::{Cx, Reply};
use crate::edge::oauth_http;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_http::answer(
        async {
            let (form, client) = oauth_http::authenticated(&app, &req, &cx).await?;
            // Introspection is for servers that keep a secret: a public client's id proves nothing.
            if client.client_type == ClientType::Public {
                return Err(OAuthError::InvalidClient);
            }
            token::introspect(&app, &cx.tenant, &client, oauth_http::required(&form, "token")?).await
        }
        .await,
    )
}
