//! `POST /api/v1/auth/api-keys/{id}/rotate`: a new secret for the key, shown in this answer only;
//! with `grace_seconds` (at most a day) the old secret keeps working that long.

use std::sync::Arc;
use std::time::Duration;

use lambda_http::Request;
use serde_json::Value;
use shared::App;
use shared::api_keys::{self, MAX_GRACE_SECONDS};
use shared::caller::Caller;
use shared::error::{Error, Result};
use shared::ids::KeyId;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let mut grace = Duration::ZERO;
    if let Some(mut f) = http::optional_json(&req)? {
        match f.raw("grace_seconds") {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) if n <= MAX_GRACE_SECONDS => grace = Duration::from_secs(n),
                Some(_) => f.reject("grace_seconds", ["out_of_range"]),
                None => f.reject("grace_seconds", ["must_be_whole_number"]),
            },
        }
        f.finish()?;
    }
    let key_id =
        http::path_param(&req, "id").and_then(|k| KeyId::parse_api_key_id(&k)).ok_or(Error::NotFound)?;
    let rotated = api_keys::rotate(&app, &who.tenant_id, &who.user_id, &key_id, grace, &cx.client).await?;
    Ok(Reply::ok("API key rotated. Store the new key now: it is not shown again.", rotated)?.no_store())
}
