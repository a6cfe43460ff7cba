//! `POST /api/v1/auth/oauth/exchange`: a social sign-in's one-time code (60 s, single use) for our
//! token pair; with `code_verifier` when the flow started with a `code_challenge`.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::social;

use crate::edge::http::{Cx, Fields, Reply};
use crate::edge::signed_in::sign_in_reply;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    // A sign-in: with the refresh token in a cookie, only from the app's own sites (login CSRF).
    crate::edge::cookies::guard_sign_in(&req, &app.config, &cx.tenant)?;
    let mut f = Fields::json(&req)?;
    let code = f.required("code");
    let verifier = f.optional("code_verifier");
    f.finish()?;
    let signed_in = social::exchange(
        &app,
        &cx.tenant,
        code.as_deref().unwrap_or_default(),
        verifier.as_deref(),
        &cx.client,
    )
    .await?;
    sign_in_reply(&app, &cx.tenant, "Logged in.", &signed_in)
}
