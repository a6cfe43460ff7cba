//! `DELETE /api/v1/auth/mfa/factors/{factor_id}`: removes one of the caller's factors. A session
//! of the last ten minutes; the last factor of an app that requires one stays (409).

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::{Error, Result};
use shared::ids::FactorId;
use shared::mfa;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let factor_id =
        http::path_param(&req, "factor_id").and_then(|id| FactorId::parse(&id)).ok_or(Error::NotFound)?;
    mfa::remove_factor(&app, &cx.tenant, who, &factor_id, &cx.client).await?;
    Reply::ok("Second factor removed.", json!({ "id": factor_id }))
}
