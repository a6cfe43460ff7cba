//! `GET /api/v1/auth/sessions`: the caller's live sessions, newest first.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::sessions;

use crate::edge::http::{Cx, Reply};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let list = sessions::list(&app, &who.tenant_id, &who.user_id, &who.session_id).await?;
    Ok(Reply::ok("Active sessions.", json!({ "sessions": list }))?.no_store())
}
