//! `GET /api/v1/console/apps`: the caller's own apps.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let apps = console::list_apps(&app, caller.session()?).await?;
    Reply::ok("Your apps.", json!({ "apps": apps }))
}
