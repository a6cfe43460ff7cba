//! `GET /api/v1/users/me/audit?limit=&cursor=`: the caller's own security events, newest first.
//! The cursor is opaque (base64url); it only ever continues within the caller's own events.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Request, RequestExt};
use serde_json::json;
use shared::App;
use shared::error::{Error, Result};
use shared::recovery::AuditView;

use crate::edge::http::{Cx, Reply};
use shared::caller::Caller;

const DEFAULT_LIMIT: i32 = 20;
const MAX_LIMIT: i32 = 100;

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let query = req.query_string_parameters();
    let limit = limit_param(query.first("limit"))?;
    let after = match query.first("cursor") {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| Error::field("cursor", "invalid"))?),
    };
    let (records, next) = app.store.audit_page(&who.tenant_id, &who.user_id, limit, after.as_deref()).await?;
    let events: Vec<AuditView> = records.into_iter().map(AuditView::from).collect();
    Ok(Reply::ok(
        "Security events.",
        json!({ "events": events, "next_cursor": next.map(|sk| URL_SAFE_NO_PAD.encode(sk)) }),
    )?
    .no_store())
}

/// `?limit=`: 1 to 100, 20 when absent.
pub fn limit_param(raw: Option<&str>) -> Result<i32> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => match l.parse::<i32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(Error::field("limit", "between_1_and_100")),
        },
    }
}

/// A cursor is the sort key of the last event of the previous page; anything else is refused.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let sk = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let id = sk.strip_prefix("EVENT#")?;
    (id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then_some(sk)
}
