//! `DELETE /api/v1/admin/users/{user_id}/sessions`: ends every session of the user.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::admin;
use shared::caller::Caller;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, _caller: Caller) -> Result<Reply> {
    let user_id = http::user_id_param(&req)?;
    let revoked = admin::revoke_sessions(&app, &cx.tenant, &user_id, &cx.client).await?;
    Reply::ok("Sessions revoked.", json!({ "revoked": revoked }))
}
