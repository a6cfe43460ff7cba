//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0): the app's OpenID
//! provider, the same document as RFC 8414's (`shared::oauth::metadata`).

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;
use shared::oauth::metadata;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx) -> Result<Reply> {
    let keys = app.verifier(None).await?;
    Ok(Reply::document(metadata::document(&cx.tenant, &keys.algorithms()))?.cache("public, max-age=300"))
}
