//! `GET /api/v1/auth/verify-token`: lets a client (or another service holding the token) ask
//! whether the bearer is valid right now, including that its session has not been revoked.

use std::sync::Arc;

use chrono::DateTime;
use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::accounts::UserView;
use shared::error::Result;

use crate::http::{Cx, Reply};
use crate::identity;
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let user = identity::current_user(&app, who).await?;
    Ok(Reply::ok(
        "The token is valid.",
        json!({
            "user": UserView::from(&user),
            "session_id": who.session_id,
            "expires_at": DateTime::from_timestamp(who.expires_at, 0),
            "scopes": who.scopes,
            "auth_kind": <&str>::from(caller.kind()),
        }),
    )?
    .no_store())
}
