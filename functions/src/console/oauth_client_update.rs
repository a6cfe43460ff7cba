//! `PATCH /api/v1/console/apps/{app_id}/oauth-clients/{client_id}`: changes the settings the body
//! names (`type` is fixed at registration).

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::clients;

use crate::edge::http::{self, Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let client_id = http::client_id_param(&req)?;
    let fields = Fields::json(&req)?;
    let updated =
        clients::update(&app, caller.session()?, &id, &client_id, fields.object(), &cx.client).await?;
    Reply::ok("OAuth client updated.", updated)
}
