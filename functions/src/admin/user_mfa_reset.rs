//! `DELETE /api/v1/admin/users/{user_id}/mfa`: removes every second factor and recovery code of
//! the user (a lost device); audited, and the user is told by mail.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::mfa;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let user_id = http::user_id_param(&req)?;
    let removed = mfa::remove_all(&app, &cx.tenant, &user_id, &caller.actor(), &cx.client).await?;
    Reply::ok("Second factors removed.", json!({ "removed": removed }))
}
