//! `GET /api/v1/auth/oauth/{provider}`: 302 to the provider, with the state bound to this browser
//! by a cookie. `?redirect_to=` (exactly one of the app's `redirect_urls`) ends the flow there with a
//! one-time code; `?code_challenge=` (S256) binds that code to the client's own PKCE pair.

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::{Error, Result};
use shared::social::{self};

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let provider = http::provider_param(&req)?;
    let query = req.query_string_parameters();
    let redirect_to = query.first("redirect_to").map(str::to_owned);
    let code_challenge = query.first("code_challenge").map(str::to_owned);
    if let Some(challenge) = &code_challenge {
        let method = query.first("code_challenge_method").unwrap_or("S256");
        // S256 of a verifier: 43 characters of base64url.
        let shaped = challenge.len() == 43
            && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if method != "S256" || !shaped {
            return Err(Error::field("code_challenge", "must_be_s256"));
        }
    }
    let started = social::start(&app, &cx.tenant, provider, redirect_to, code_challenge, &cx.client).await?;
    Ok(Reply::redirect(started.authorization_url).cookie(cookies::oauth_state_cookie(
        &app.config,
        &cx.tenant,
        provider,
        &started.state,
    )))
}
