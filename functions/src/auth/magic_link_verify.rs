//! `POST /api/v1/auth/magic-link/verify`: signs in with a magic link's token and returns a token
//! pair; a link sent to a new address creates the (verified) account first.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::edge::http::{Cx, Fields, Reply};
use crate::edge::signed_in::sign_in_reply;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    crate::edge::cookies::guard_sign_in(&req, &app.config, &tenant)?;
    let mut f = Fields::json(&req)?;
    let token = f.required("token");
    f.finish()?;
    ratelimit::hit(&app, &tenant.id, Route::VerifyEmail, &client, None).await?;
    let bind = app.config.refresh_token_cookie;
    let signed_in =
        recovery::verify_magic_link(&app, &tenant, token.as_deref().unwrap_or_default(), None, &client, bind)
            .await?;
    sign_in_reply(&app, &tenant, "Logged in.", &signed_in)
}
