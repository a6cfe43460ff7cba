//! `DELETE /api/v1/auth/sessions/{id}`: ends one of the caller's sessions (the current one too).
//! A session that is not the caller's is "not found", whoever it belongs to.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::audit::EventType;
use shared::error::{Error, Result};
use shared::sessions;
use shared::{App, SessionId};

use crate::edge::http::{self, Cx, Reply};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let client = cx.client;
    let who = caller.session()?;
    // A malformed id names no session of the caller's: 404 like any other.
    let id = http::path_param(&req, "id").and_then(|id| SessionId::parse(&id)).ok_or(Error::NotFound)?;
    sessions::revoke(&app, &who.tenant_id, &who.user_id, &id, EventType::SessionRevoked, &client).await?;
    Reply::ok("Session revoked.", json!({ "id": id, "current": id == who.session_id }))
}
