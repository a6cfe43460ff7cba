//! `POST /api/v1/account/deletion/confirm`: disables the account now and schedules its erasure.

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
    ratelimit::hit(&app, &tenant.id, Route::DeletionConfirm, &client, None).await?;
    let scheduled_for =
        recovery::confirm_deletion(&app, &tenant, token.as_deref().unwrap_or_default(), &client).await?;
    Reply::ok(
        "Your account is disabled and will be erased at the scheduled time. The email we sent lets you cancel until then.",
        json!({ "scheduled_for": scheduled_for }),
    )
}
