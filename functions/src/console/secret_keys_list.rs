//! `GET /api/v1/console/apps/{app_id}/secret-keys`: the app's keys, without their secrets.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let keys = console::list_secret_keys(&app, caller.session()?, &id).await?;
    Reply::ok("The app's secret keys.", json!({ "secret_keys": keys }))
}
