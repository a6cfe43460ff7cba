//! `POST /api/v1/auth/mfa/totp`: `{name}` enrols a TOTP app, pending until its first code
//! confirms it. A session of the last ten minutes, or the `mfa_token` of a sign-in that must enrol.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;
use shared::mfa;

use super::{body, browser, enroller, factor_name};
use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Option<Caller>) -> Result<Reply> {
    let mut f = body(&req, &caller)?;
    let name = factor_name(&mut f);
    let mfa_token = f.optional("mfa_token");
    f.finish()?;
    let browser = browser(&req);
    let enroller = enroller(&caller, mfa_token.as_deref(), browser.as_deref())?;
    let enrolled = mfa::enrol_totp(&app, &cx.tenant, enroller, name.as_deref().unwrap_or_default()).await?;
    Ok(Reply::created(
        "Scan the code with an authenticator app, then confirm with its first code.",
        enrolled,
    )?
    .no_store())
}
