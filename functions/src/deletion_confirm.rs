//! `POST /api/v1/account/deletion/confirm`: disables the account now and schedules its erasure.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::audit::ClientInfo;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::http::{Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, client: ClientInfo) -> Result<Reply> {
    let mut f = Fields::json(&req)?;
    let token = f.required("token");
    f.finish()?;
    ratelimit::hit(&app, Route::DeletionConfirm, &client, None).await?;
    let scheduled_for =
        recovery::confirm_deletion(&app, token.as_deref().unwrap_or_default(), &client).await?;
    Reply::ok(
        "Your account is disabled and will be erased at the scheduled time. The email we sent lets you cancel until then.",
        json!({ "scheduled_for": scheduled_for }),
    )
}
