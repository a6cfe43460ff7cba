//! `POST /oauth/token` of an app's OAuth provider (RFC 6749 section 3.2): the
//! `authorization_code` grant (PKCE), `refresh_token` (rotation with reuse detection) and
//! `client_credentials` for confidential clients; `client_secret_basic`, `client_secret_post`, or
//! a public client's id alone.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::oauth::grants;
use shared::oauth::protocol::OAuthError;
use shared::oauth::token;

use crate::edge::http::{Cx, Reply};
use crate::edge::oauth_http;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    oauth_http::answer(
        async {
            let (form, client) = oauth_http::authenticated(&app, &req, &cx).await?;
            let field = |name: &str| form.get(name).map(String::as_str);
            // RFC 8707: the resource server the token is for (its `aud`), one per request.
            let resource = field("resource");
            match field("grant_type") {
                Some("authorization_code") => {
                    let code = oauth_http::required(&form, "code")?;
                    let (redirect_uri, verifier) = (field("redirect_uri"), field("code_verifier"));
                    grants::exchange_code(
                        &app,
                        &cx.tenant,
                        &client,
                        code,
                        redirect_uri,
                        verifier,
                        resource,
                        &cx.client,
                    )
                    .await
                }
                Some("refresh_token") => {
                    let refresh_token = oauth_http::required(&form, "refresh_token")?;
                    grants::refresh(
                        &app,
                        &cx.tenant,
                        &client,
                        refresh_token,
                        field("scope"),
                        resource,
                        &cx.client,
                    )
                    .await
                }
                Some("client_credentials") => {
                    let scope = form.get("scope").map(String::as_str);
                    token::client_credentials(&app, &cx.tenant, &client, scope, resource).await
                }
                Some(_) => Err(OAuthError::UnsupportedGrantType),
                None => Err(OAuthError::InvalidRequest("grant_type is required".into())),
            }
        }
        .await,
    )
}
