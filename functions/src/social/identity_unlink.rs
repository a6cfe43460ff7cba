//! `DELETE /api/v1/auth/identities/{provider}`: unlinks a provider from the caller; the last way to
//! sign in (no password, no other identity) cannot go (409).

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::social::{self};

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let provider = http::provider_param(&req)?;
    social::unlink(&app, &who.tenant_id, &who.user_id, provider, &cx.client).await?;
    Reply::ok("Identity unlinked.", json!({ "provider": provider.as_str() }))
}
