//! `GET /api/v1/auth/verify-token`: lets a client (or another service holding the token) ask
//! whether the bearer (an access token, an API key, or an access token of the app's OAuth
//! provider) is valid right now, including that its session or grant has not been revoked.

use std::sync::Arc;

use chrono::DateTime;
use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::accounts::UserView;
use shared::error::Result;

use crate::edge::http::{Cx, Reply};
use crate::edge::identity;
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    if let Caller::OAuth(holder) = &caller
        && holder.user_id.is_none()
    {
        // A client acting for itself: no user to show.
        return Ok(Reply::ok(
            "The token is valid.",
            json!({
                "client_id": holder.client_id,
                "scopes": holder.scopes,
                "auth_kind": <&str>::from(caller.kind()),
                "expires_at": DateTime::from_timestamp(holder.expires_at, 0),
            }),
        )?
        .no_store());
    }
    let (tenant, user_id) = caller.user()?;
    let user = identity::current_user(&app, tenant, user_id).await?;
    if let Caller::OAuth(holder) = &caller {
        // A third party sees what its scopes open (as at userinfo), never the whole profile.
        let mut user_data = shared::oauth::grants::user_claims(&user, &holder.scopes);
        user_data.insert("sub".into(), json!(user.user_id));
        return Ok(Reply::ok(
            "The token is valid.",
            json!({
                "user": user_data,
                "client_id": holder.client_id,
                "scopes": holder.scopes,
                "auth_kind": <&str>::from(caller.kind()),
                "expires_at": DateTime::from_timestamp(holder.expires_at, 0),
            }),
        )?
        .no_store());
    }
    let mut data = json!({
        "user": UserView::from(&user),
        "scopes": caller.scopes(),
        "auth_kind": <&str>::from(caller.kind()),
    });
    match &caller {
        Caller::ApiKey(holder) => {
            data["key_id"] = json!(holder.key_id);
            data["expires_at"] = json!(DateTime::from_timestamp(holder.expires_at, 0));
        }

        _ => {
            let who = caller.session()?;
            data["session_id"] = json!(who.session_id);
            data["expires_at"] = json!(DateTime::from_timestamp(who.expires_at, 0));
        }
    }
    Ok(Reply::ok("The token is valid.", data)?.no_store())
}
