//! `POST /api/v1/account/deletion/cancel`: the notice's cancel link restores the account.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let mut f = Fields::json(&req)?;
    let token = f.required("token");
    f.finish()?;
    ratelimit::hit(&app, &tenant.id, Route::DeletionCancel, &client, None).await?;
    recovery::cancel_deletion(&app, &tenant, token.as_deref().unwrap_or_default(), &client).await?;
    Reply::ok("The deletion is cancelled and your account is active again. Please log in.", json!({}))
}
