//! `DELETE /api/v1/auth/sessions`: ends every session of the caller, the current one included.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::audit::ClientInfo;
use shared::error::Result;
use shared::sessions;

use crate::cookies;
use crate::http::Reply;
use crate::identity;

pub async fn handle(app: Arc<App>, req: Request, client: ClientInfo) -> Result<Reply> {
    let who = identity::identify(&app, &req).await?;
    let revoked = sessions::revoke_all(&app, &who.tenant_id, &who.user_id, None, &client).await?;
    let mut reply = Reply::ok("All sessions revoked.", json!({ "revoked": revoked }))?;
    if app.config.refresh_token_cookie {
        reply = reply.cookie(cookies::cleared());
    }
    Ok(reply)
}
