//! `GET /api/v1/auth/identities`: the providers linked to the caller.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::social;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let linked = social::identities(&app, &who.tenant_id, &who.user_id).await?;
    let identities: Vec<_> =
        linked.iter().map(|i| json!({"provider": i.provider, "linked_at": i.linked_at})).collect();
    Ok(Reply::ok("Linked identities.", json!({ "identities": identities }))?.no_store())
}
