//! `GET /api/v1/auth/verify-token`: lets a client (or another service holding the token) ask
//! whether the bearer is valid right now, including that its session has not been revoked.

use std::sync::Arc;

use chrono::DateTime;
use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::accounts::UserView;
use shared::audit::ClientInfo;
use shared::error::Result;

use crate::http::Reply;
use crate::identity;

pub async fn handle(app: Arc<App>, req: Request, _client: ClientInfo) -> Result<Reply> {
    let who = identity::identify(&app, &req).await?;
    let user = identity::current_user(&app, &who).await?;
    Ok(Reply::ok(
        "The token is valid.",
        json!({
            "user": UserView::from(&user),
            "session_id": who.session_id,
            "expires_at": DateTime::from_timestamp(who.expires_at, 0),
            "scopes": who.scopes,
            "auth_kind": who.auth_kind,
        }),
    )?
    .no_store())
}
