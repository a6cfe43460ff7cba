//! `POST /api/v1/auth/resend-verification`
//!
//! Answers the same whether the address is unknown, unverified or already verified, so that the
//! endpoint cannot be used to find out who has an account.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::domain::Email;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let mut f = Fields::json(&req)?;
    let email = f.required("email");
    let email = email.and_then(|e| Email::parse(&e).map_err(|rule| f.reject("email", [rule])).ok());
    f.finish()?;
    if let Some(email) = email {
        ratelimit::hit(&app, &tenant.id, Route::ResendVerification, &client, Some(email.normalized()))
            .await?;
        recovery::resend_verification(&app, &tenant, &email, &client).await?;
    }
    Reply::ok(
        "If an unverified account exists for this address, a new verification email has been sent.",
        json!({}),
    )
}
