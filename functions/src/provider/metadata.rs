//! `GET /.well-known/oauth-authorization-server` (RFC 8414): the app's OAuth provider. The same
//! document as OpenID discovery (`openid_configuration`), built by `shared::oauth::metadata`.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;

use shared::oauth::metadata::document;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx) -> Result<Reply> {
    let keys = app.verifier(None).await?;
    Ok(Reply::document(document(&cx.tenant, &keys.algorithms()))?.cache("public, max-age=300"))
}
