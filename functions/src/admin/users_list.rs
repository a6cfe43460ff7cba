//! `GET /api/v1/admin/users`: the app's users, newest first (`?email=` a prefix of the normalised
//! email, `limit`, `cursor`).

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use serde_json::json;
use shared::App;
use shared::admin;
use shared::caller::Caller;
use shared::error::{Error, Result};

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, _caller: Caller) -> Result<Reply> {
    let query = req.query_string_parameters();
    let limit = crate::edge::http::page_limit(query.first("limit"))?;
    let prefix = match query.first("email") {
        None => None,
        Some(p) if !p.trim().is_empty() && p.len() <= 320 => Some(shared::domain::Email::normalize_prefix(p)),
        Some(_) => return Err(Error::field("email", "invalid")),
    };
    let page = admin::list_users(&app, &cx.tenant, limit, query.first("cursor"), prefix.as_deref()).await?;
    Ok(Reply::ok("Users.", json!({ "users": page.items, "next_cursor": page.next_cursor }))?.no_store())
}
