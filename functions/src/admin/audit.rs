//! `GET /api/v1/admin/audit`: the app's security events, newest first (`limit`, `cursor`,
//! `user_id`).

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use serde_json::json;
use shared::App;
use shared::UserId;
use shared::admin;
use shared::caller::Caller;
use shared::error::{Error, Result};

use crate::edge::http::{Cx, Reply};
use shared::audit::{decode_cursor, encode_cursor};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, _caller: Caller) -> Result<Reply> {
    let query = req.query_string_parameters();
    let limit = crate::edge::http::page_limit(query.first("limit"))?;
    let user = match query.first("user_id") {
        None => None,
        Some(u) => Some(UserId::parse(u).ok_or_else(|| Error::field("user_id", "invalid"))?),
    };
    let page = events(&app, &cx.tenant, limit, query.first("cursor"), user.as_ref()).await?;
    Ok(Reply::ok("Security events.", json!({ "events": page.items, "next_cursor": page.next_cursor }))?
        .no_store())
}

/// A page of the app's events, newest first; with a user, that user's only (here and on the
/// dashboard's audit page). A cursor is what the previous page handed out; any other is refused.
pub async fn events(
    app: &App,
    tenant: &shared::Tenant,
    limit: i32,
    cursor: Option<&str>,
    user: Option<&UserId>,
) -> Result<shared::store::Page<admin::AdminAuditView>> {
    match user {
        // One user's trail: its partition, with the same cursor as `GET /users/me/audit`.
        Some(_) => {
            let after = match cursor {
                None => None,
                Some(c) => Some(decode_cursor(c).ok_or_else(|| Error::field("cursor", "invalid"))?),
            };
            let mut page = admin::audit(app, tenant, limit, after.as_deref(), user).await?;
            page.next_cursor = page.next_cursor.as_deref().map(encode_cursor);
            Ok(page)
        }
        None => admin::audit(app, tenant, limit, cursor, None).await,
    }
}
