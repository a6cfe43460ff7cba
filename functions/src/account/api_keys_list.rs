//! `GET /api/v1/auth/api-keys`: the caller's live API keys, oldest first, never a secret.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::api_keys;
use shared::caller::Caller;
use shared::error::Result;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let keys = api_keys::list(&app, &who.tenant_id, &who.user_id).await?;
    Ok(Reply::ok("API keys.", json!({ "api_keys": keys }))?.no_store())
}
