//! `POST /api/v1/auth/password/reset/confirm`: sets a new password with a reset token. Every
//! session of the user ends and nobody is logged in; a password that fails the policy leaves the
//! token usable.

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
    let new_password = f.required("new_password");
    f.finish()?;
    let (Some(token), Some(new_password)) = (token, new_password) else { return Err(missing()) };
    // Per IP: token guessing is hopeless (256 bits), but each attempt may cost a hash.
    ratelimit::hit(&app, &tenant.id, Route::PasswordResetConfirm, &client, None).await?;
    recovery::confirm_password_reset(&app, &tenant, &token, &new_password, &client).await?;
    Reply::ok("Your password has been reset. Please log in with the new password.", json!({}))
}

fn missing() -> shared::Error {
    shared::Error::Internal("fields passed validation but are missing".into())
}
