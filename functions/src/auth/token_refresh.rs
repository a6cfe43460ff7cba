//! `POST /api/v1/auth/token/refresh`: rotates a refresh token (from the body, or from the refresh
//! cookie when `REFRESH_TOKEN_COOKIE=true`) into a new access and refresh pair.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::{Error, Result};
use shared::sessions;

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let from_body = match http::optional_json(&req)? {
        Some(mut f) => {
            let token = f.optional("refresh_token");
            f.finish()?;
            token.filter(|t| !t.trim().is_empty())
        }
        None => None,
    };
    let token = match from_body {
        Some(t) => t,
        None if app.config.refresh_token_cookie => {
            let Some(t) = cookies::read(&req, cookies::REFRESH) else {
                return Err(Error::field("refresh_token", "required"));
            };
            // The browser sent the cookie by itself: only our own front end may use it.
            if !cookies::same_site_request(&req, &tenant) {
                return Err(Error::Forbidden);
            }
            t
        }
        None => return Err(Error::field("refresh_token", "required")),
    };

    let refreshed = sessions::refresh(&app, &tenant, token.trim(), &client).await?;
    let pair = &refreshed.pair;
    let mut reply = Reply::ok(
        "Tokens refreshed.",
        json!({
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "token_type": "Bearer",
            "expires_in": pair.access_expires_in,
            "session_id": refreshed.session_id,
        }),
    )?
    .no_store();
    if app.config.refresh_token_cookie {
        reply = reply.cookie(cookies::refresh_cookie(&tenant, &pair.refresh_token));
    }
    Ok(reply)
}
