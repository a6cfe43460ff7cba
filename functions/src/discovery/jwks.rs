//! `GET /.well-known/jwks.json`: the public keys that verify our tokens (RFC 7517), the current
//! signing key and any previous one still verifying.

use std::sync::Arc;

use crate::edge::http::Cx;
use lambda_http::Request;
use shared::App;
use shared::error::Result;

use crate::edge::http::Reply;

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx) -> Result<Reply> {
    let keys = app.verifier(None).await?;
    // Short enough that a rotated-in key is picked up by verifiers well before it signs anything
    // they must accept (see `docs/operations.md` on key rotation).
    Ok(Reply::document(keys.jwks())?.cache("public, max-age=300"))
}
