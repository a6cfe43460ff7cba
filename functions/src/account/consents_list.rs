//! `GET /api/v1/auth/consents`: the caller's connected apps (the OAuth clients they allowed), with
//! the scopes each was given.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::oauth::grants;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let consents = grants::connected(&app, &cx.tenant, &who.user_id).await?;
    Reply::ok("Connected apps.", json!({ "consents": consents }))
}
