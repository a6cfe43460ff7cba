//! `DELETE /api/v1/console/apps/{app_id}`: deletes the app: every route of it is 404 from now on.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    console::delete_app(&app, caller.session()?, &id, &cx.client).await?;
    Reply::ok("App deleted.", json!({ "id": id }))
}
