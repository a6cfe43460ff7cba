//! `DELETE /api/v1/console/apps/{app_id}/oauth-clients/{client_id}`: the client is gone at once.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::clients;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let client_id = http::client_id_param(&req)?;
    clients::delete(&app, caller.session()?, &id, &client_id, &cx.client).await?;
    Reply::ok("OAuth client deleted.", json!({ "client_id": client_id }))
}
