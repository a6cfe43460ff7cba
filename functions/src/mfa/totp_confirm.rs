//! `POST /api/v1/auth/mfa/totp/{factor_id}/confirm`: `{code}` confirms a pending TOTP factor. The
//! user's first factor also brings ten recovery codes, shown this once.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::error::{Error, Result};
use shared::ids::FactorId;
use shared::mfa;

use super::{body, browser, enroller};
use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Option<Caller>) -> Result<Reply> {
    let mut f = body(&req, &caller)?;
    let factor_id =
        http::path_param(&req, "factor_id").and_then(|id| FactorId::parse(&id)).ok_or(Error::NotFound)?;
    let code = f.required("code");
    let mfa_token = f.optional("mfa_token");
    f.finish()?;
    let browser = browser(&req);
    let enroller = enroller(&caller, mfa_token.as_deref(), browser.as_deref())?;
    let confirmed = mfa::confirm_totp(
        &app,
        &cx.tenant,
        enroller,
        &factor_id,
        code.as_deref().unwrap_or_default(),
        &cx.client,
    )
    .await?;
    Ok(Reply::ok("Second factor confirmed.", confirmed)?.no_store())
}
