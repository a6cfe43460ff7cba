//! `POST /api/v1/auth/mfa/recovery-codes`: a new set of ten recovery codes, shown this once; the
//! previous set stops working. A session of the last ten minutes.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::mfa;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let codes = mfa::regenerate_codes(&app, &cx.tenant, who, &cx.client).await?;
    Ok(Reply::created("New recovery codes: keep them somewhere safe.", json!({ "recovery_codes": codes }))?
        .no_store())
}
