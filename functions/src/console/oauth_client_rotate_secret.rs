//! `POST /api/v1/console/apps/{app_id}/oauth-clients/{client_id}/rotate-secret`: a new secret for
//! a confidential client, in this answer only; the old one is refused from the next request on.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::clients;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let client_id = http::client_id_param(&req)?;
    let rotated = clients::rotate_secret(&app, caller.session()?, &id, &client_id, &cx.client).await?;
    Ok(Reply::ok("New client secret. Store it now: it is not shown again.", rotated)?.no_store())
}
