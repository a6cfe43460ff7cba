//! `DELETE /api/v1/admin/users/{user_id}`: erases the user at once.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::admin;
use shared::caller::Caller;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let user_id = http::user_id_param(&req)?;
    admin::delete_user(&app, &cx.tenant, &caller, &user_id, &cx.client).await?;
    Reply::ok("User deleted.", json!({ "id": user_id }))
}
