//! `GET /api/v1/users/me/audit?limit=&cursor=`: the caller's own security events, newest first.
//! The cursor is opaque (base64url); it only ever continues within the caller's own events.

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use serde_json::json;
use shared::App;
use shared::audit::{decode_cursor, encode_cursor};
use shared::error::{Error, Result};
use shared::recovery::AuditView;

use crate::edge::http::{Cx, Reply, page_limit};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let query = req.query_string_parameters();
    let limit = page_limit(query.first("limit"))?;
    let after = match query.first("cursor") {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| Error::field("cursor", "invalid"))?),
    };
    let (records, next) = app.store.audit_page(&who.tenant_id, &who.user_id, limit, after.as_deref()).await?;
    let events: Vec<AuditView> = records.into_iter().map(AuditView::from).collect();
    Ok(Reply::ok(
        "Security events.",
        json!({ "events": events, "next_cursor": next.as_deref().map(encode_cursor) }),
    )?
    .no_store())
}
