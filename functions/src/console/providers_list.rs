//! `GET /api/v1/console/apps/{app_id}/providers`: each identity provider the service supports,
//! with the app's configuration of it (never a secret).

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
    let providers = console::list_providers(&app, caller.session()?, &id).await?;
    Reply::ok("Identity providers.", json!({ "providers": providers }))
}
