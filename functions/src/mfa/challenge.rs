//! `POST /api/v1/auth/mfa/challenge`: `{mfa_token, factor_id}`: what the second step must send
//! for that factor (nothing more for a TOTP app: its current code).

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::{Error, Result};
use shared::ids::FactorId;
use shared::mfa;

use super::browser;
use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let mut f = Fields::json(&req)?;
    let mfa_token = f.required("mfa_token");
    let factor_id = f.required("factor_id");
    let factor_id = factor_id.and_then(|id| match FactorId::parse(&id) {
        Some(id) => Some(id),
        None => {
            f.reject("factor_id", ["invalid"]);
            None
        }
    });
    f.finish()?;
    let (Some(mfa_token), Some(factor_id)) = (mfa_token, factor_id) else {
        return Err(Error::Internal("fields passed validation but are missing".into()));
    };
    let browser = browser(&req);
    let challenge = mfa::challenge(&app, &cx.tenant, &mfa_token, browser.as_deref(), &factor_id).await?;
    Ok(Reply::ok("Send the factor's answer to /mfa/verify.", challenge)?.no_store())
}
