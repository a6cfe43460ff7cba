//! `POST /api/v1/auth/logout`: ends the caller's session. Every access token of the session is
//! refused from the next request on (the authorizer and the functions check that the session is
//! live), and its refresh token can no longer rotate.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::audit::EventType;
use shared::error::{Error, Result};
use shared::sessions;
use shared::tokens::{self, TokenUse};

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let who = caller.session()?;
    // An optional refresh token of another of the caller's sessions (a client that holds both)
    // ends that session as well.
    let other = match http::optional_json(&req)? {
        Some(mut f) => {
            let t = f.optional("refresh_token");
            f.finish()?;
            t
        }
        None => None,
    }
    .or_else(|| cookies::read(&req, cookies::REFRESH));

    match sessions::revoke(&app, &who.tenant_id, &who.user_id, &who.session_id, EventType::Logout, &client)
        .await
    {
        Ok(()) | Err(Error::NotFound) => {}
        Err(e) => return Err(e),
    }
    if let Some(token) = other {
        let keys = app.verifier(tokens::kid_of(token.trim()).as_deref()).await?;
        if let Some(c) = tokens::verify(&keys, &tenant, token.trim(), TokenUse::Refresh)
            && c.sub == who.user_id
            && c.tid == who.tenant_id
            && c.sid != who.session_id
        {
            match sessions::revoke(&app, &c.tid, &c.sub, &c.sid, EventType::Logout, &client).await {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let mut reply = Reply::ok("Logged out.", json!({}))?;
    if app.config.refresh_token_cookie {
        reply = reply.cookie(cookies::cleared(&tenant));
    }
    Ok(reply)
}
