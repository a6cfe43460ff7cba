//! `GET /api/v1/console/apps/{app_id}/oauth-clients/{client_id}`: one client, without its secret.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::clients;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let client_id = http::client_id_param(&req)?;
    Reply::ok("OAuth client.", clients::get(&app, caller.session()?, &id, &client_id).await?)
}
