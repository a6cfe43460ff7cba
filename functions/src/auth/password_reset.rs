//! `POST /api/v1/auth/password/reset`: mails a reset link to a known, active account. The answer is
//! the same for any address.

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
    let email = f.email("email");
    f.finish()?;
    if let Some(email) = email {
        ratelimit::hit(&app, &tenant.id, Route::PasswordReset, &client, Some(email.normalized())).await?;
        recovery::request_password_reset(&app, &tenant, &email, &client).await?;
    }
    Reply::ok("If an account exists for this address, a password reset link has been sent.", json!({}))
}
