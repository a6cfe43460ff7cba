//! `POST /api/v1/admin/users/{user_id}/password-reset`: mails the user a reset link (also the way
//! to invite a user created without a password).

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
    admin::send_password_reset(&app, &cx.tenant, &user_id, &cx.client).await?;
    Reply::ok("Password-reset mail sent.", json!({ "id": user_id }))
}
