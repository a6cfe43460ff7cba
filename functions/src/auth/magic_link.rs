//! `POST /api/v1/auth/magic-link`: mails a one-time sign-in link (10 minutes by default). The
//! answer is the same for any address.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::recovery;

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let mut f = Fields::json(&req)?;
    let email = f.email("email");
    f.finish()?;
    if let Some(email) = email {
        recovery::request_magic_link(&app, &tenant, &email, &client, None, None).await?;
    }
    Reply::ok("Check your inbox: if the address can sign in, a sign-in link is on its way.", json!({}))
}
