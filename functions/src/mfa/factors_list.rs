//! `GET /api/v1/auth/mfa/factors`: the caller's confirmed second factors.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::mfa;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let factors = mfa::factors(&app, &who.tenant_id, &who.user_id).await?;
    Ok(Reply::ok("Second factors.", json!({ "factors": factors, "acr": who.authn.acr }))?.no_store())
}
