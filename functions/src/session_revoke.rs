//! `DELETE /api/v1/auth/sessions/{id}`: ends one of the caller's sessions (the current one too).
//! A session that is not the caller's is "not found", whoever it belongs to.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::audit::{ClientInfo, EventType};
use shared::error::{Error, Result};
use shared::sessions;

use crate::http::{self, Reply};
use crate::identity;

pub async fn handle(app: Arc<App>, req: Request, client: ClientInfo) -> Result<Reply> {
    let who = identity::identify(&app, &req).await?;
    let id = http::path_param(&req, "id").ok_or(Error::NotFound)?;
    let plausible =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !plausible {
        return Err(Error::NotFound);
    }
    sessions::revoke(&app, &who.tenant_id, &who.user_id, &id, EventType::SessionRevoked, &client).await?;
    Reply::ok("Session revoked.", json!({ "id": id, "current": id == who.session_id }))
}
