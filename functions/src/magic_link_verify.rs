//! `POST /api/v1/auth/magic-link/verify`: signs in with a magic link's token and returns a token
//! pair; a link sent to a new address creates the (verified) account first.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::audit::ClientInfo;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::http::{Fields, Reply};
use crate::login::token_reply;

pub async fn handle(app: Arc<App>, req: Request, client: ClientInfo) -> Result<Reply> {
    crate::cookies::guard_sign_in(&req, &app.config)?;
    let mut f = Fields::json(&req)?;
    let token = f.required("token");
    f.finish()?;
    ratelimit::hit(&app, Route::VerifyEmail, &client, None).await?;
    let logged_in = recovery::verify_magic_link(&app, token.as_deref().unwrap_or_default(), &client).await?;
    token_reply(&app, "Logged in.", &logged_in)
}
