//! `POST /api/v1/console/apps`: a developer creates an app (`name` and any settings).

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let fields = Fields::json(&req)?;
    let created = console::create_app(&app, caller.session()?, fields.object(), &cx.client).await?;
    Reply::created("App created.", created)
}
