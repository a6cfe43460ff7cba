//! `GET /api/v1/console/apps/{app_id}`: one of the caller's apps; any other id is 404.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    Reply::ok("The app.", console::get_app(&app, caller.session()?, &id).await?)
}
