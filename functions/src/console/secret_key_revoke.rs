//! `DELETE /api/v1/console/apps/{app_id}/secret-keys/{id}`: the key is dead at once.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::console;
use shared::error::{Error, Result};
use shared::ids::KeyId;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let id = http::app_id_param(&req)?;
    let key_id = http::path_param(&req, "id").and_then(|k| KeyId::parse(&k)).ok_or(Error::NotFound)?;
    console::revoke_secret_key(&app, caller.session()?, &id, &key_id, &cx.client).await?;
    Reply::ok("Secret key revoked.", json!({ "id": key_id }))
}
