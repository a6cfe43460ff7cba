//! `DELETE /api/v1/console/apps/{app_id}/providers/{provider}`: the app's sign-ins with the
//! provider stop at once; the identities linked through it stay.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let provider = http::provider_param(&req)?;
    console::delete_provider(&app, caller.session()?, &id, provider, &cx.client).await?;
    Reply::ok("Identity provider removed.", json!({ "provider": provider, "configured": false }))
}
