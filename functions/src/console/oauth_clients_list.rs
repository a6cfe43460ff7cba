//! `GET /api/v1/console/apps/{app_id}/oauth-clients`: the app's OAuth clients, without secrets.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::clients;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let listed = clients::list(&app, caller.session()?, &id).await?;
    Reply::ok("OAuth clients.", json!({ "oauth_clients": listed }))
}
