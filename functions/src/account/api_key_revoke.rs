//! `DELETE /api/v1/auth/api-keys/{id}`: the key is dead for the next request.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::api_keys;
use shared::caller::Caller;
use shared::error::{Error, Result};
use shared::ids::KeyId;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let key_id =
        http::path_param(&req, "id").and_then(|k| KeyId::parse_api_key_id(&k)).ok_or(Error::NotFound)?;
    api_keys::revoke(&app, &who.tenant_id, &who.user_id, &key_id, &cx.client).await?;
    Reply::ok("API key revoked.", json!({ "id": key_id }))
}
