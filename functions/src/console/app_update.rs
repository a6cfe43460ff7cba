//! `PATCH /api/v1/console/apps/{app_id}`: changes the settings the body names.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{self, Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let fields = Fields::json(&req)?;
    let updated = console::update_app(&app, caller.session()?, &id, fields.object(), &cx.client).await?;
    Reply::ok("App updated.", updated)
}
