//! `POST /api/v1/account/deletion`: the caller confirms the password; a confirmation link is mailed.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::edge::http::{Cx, Fields, Reply};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let who = caller.session()?;
    let mut f = Fields::json(&req)?;
    let password = f.required("password");
    f.finish()?;
    ratelimit::hit(&app, &tenant.id, Route::Deletion, &client, Some(who.user_id.as_str())).await?;
    recovery::request_deletion(&app, who, password.as_deref().unwrap_or_default(), &client).await?;
    Reply::ok("Check your inbox to confirm the deletion of your account.", json!({}))
}
