//! `POST /api/v1/console/apps/{app_id}/oauth-clients`: registers an OAuth client of the app (a
//! third party that signs the app's users in through `/oauth/authorize`); a confidential client's
//! secret is in this answer only.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::clients;

use crate::edge::http::{self, Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let fields = Fields::json(&req)?;
    let created = clients::create(&app, caller.session()?, &id, fields.object(), &cx.client).await?;
    let message = match created.client_secret {
        Some(_) => "OAuth client registered. Store its secret now: it is not shown again.",
        None => "OAuth client registered.",
    };
    Ok(Reply::created(message, created)?.no_store())
}
