//! `DELETE /api/v1/auth/sessions`: ends every session of the caller, the current one included.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::sessions;

use crate::edge::cookies;
use crate::edge::http::{Cx, Reply};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let who = caller.session()?;
    let revoked = sessions::revoke_all(&app, &who.tenant_id, &who.user_id, None, &client).await?;
    let mut reply = Reply::ok("All sessions revoked.", json!({ "revoked": revoked }))?;
    if app.config.refresh_token_cookie {
        reply = reply.cookie(cookies::cleared(&tenant));
    }
    Ok(reply)
}
