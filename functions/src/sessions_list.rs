//! `GET /api/v1/auth/sessions`: the caller's live sessions, newest first.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::audit::ClientInfo;
use shared::error::Result;
use shared::sessions;

use crate::http::Reply;
use crate::identity;

pub async fn handle(app: Arc<App>, req: Request, _client: ClientInfo) -> Result<Reply> {
    let who = identity::identify(&app, &req).await?;
    let list = sessions::list(&app, &who.tenant_id, &who.user_id, &who.session_id).await?;
    Ok(Reply::ok("Active sessions.", json!({ "sessions": list }))?.no_store())
}
