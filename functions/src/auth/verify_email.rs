//! `POST /api/v1/auth/verify-email`

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::accounts;
use shared::error::Result;
use shared::ratelimit::{self, Route};

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let mut f = Fields::json(&req)?;
    let token = f.required("token");
    f.finish()?;
    ratelimit::hit(&app, &tenant.id, Route::VerifyEmail, &client, None).await?;
    let user = accounts::verify_email(&app, &tenant, token.as_deref().unwrap_or_default(), &client).await?;
    let password_set = user.password_hash.is_some();
    Reply::ok(
        if password_set {
            "Email address verified. You can now log in."
        } else {
            "Email address verified. Set a password with a password reset, or sign in with a magic link."
        },
        json!({
            "user_id": user.user_id,
            "email": user.email,
            "email_verified": true,
            "password_set": password_set,
        }),
    )
}
