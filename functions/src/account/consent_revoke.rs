//! `DELETE /api/v1/auth/consents/{client_id}`: disconnects an app: the consent goes, and with its
//! grants every token the client holds for the caller, at once.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::grants;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let client_id = http::client_id_param(&req)?;
    grants::disconnect(&app, &cx.tenant, &who.user_id, &client_id, &cx.client).await?;
    Reply::ok("App disconnected.", json!({ "client_id": client_id }))
}
