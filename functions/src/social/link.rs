//! `POST /api/v1/auth/oauth/{provider}/link`: the signed-in user links a provider. The answer is
//! the provider's authorization URL to open in the browser, and the state cookie that binds the
//! link to that browser; completing it at the provider links the identity to the caller.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::social::{self};

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let provider = http::provider_param(&req)?;
    let started = social::start_link(&app, &cx.tenant, provider, who, &cx.client).await?;
    Ok(Reply::ok(
        "Open the authorization URL to link the provider.",
        json!({ "authorization_url": started.authorization_url }),
    )?
    .no_store()
    .cookie(cookies::oauth_state_cookie(&app.config, &cx.tenant, provider, &started.state)))
}
