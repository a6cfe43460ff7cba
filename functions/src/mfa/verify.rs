//! `POST /api/v1/auth/mfa/verify`: the second step. With an `mfa_token`: `{factor_id, code}` or
//! `{recovery_code}` finishes the sign-in (the token pair). With a session and no `mfa_token`: the
//! same answer raises the session to `aal2` (the same session, a new pair).

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::accounts::LoggedIn;
use shared::caller::Caller;
use shared::error::{Error, Result};
use shared::ids::FactorId;
use shared::mfa::{self, Answer};

use super::{body, browser};
use crate::edge::http::{Cx, Reply};
use crate::edge::signed_in::token_reply;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Option<Caller>) -> Result<Reply> {
    // A sign-in: with the refresh token in a cookie, only from the app's own sites (login CSRF).
    crate::edge::cookies::guard_sign_in(&req, &app.config, &cx.tenant)?;
    let mut f = body(&req, &caller)?;
    let mfa_token = f.optional("mfa_token");
    let factor_id = f.optional("factor_id");
    let code = f.optional("code");
    let recovery_code = f.optional("recovery_code");
    let factor_id = match factor_id.as_deref().map(FactorId::parse) {
        Some(None) => {
            f.reject("factor_id", ["invalid"]);
            None
        }
        Some(id) => id,
        None => None,
    };
    match (&factor_id, &code, &recovery_code) {
        (Some(_), Some(_), None) | (None, None, Some(_)) => {}
        (None, Some(_), None) => f.reject("factor_id", ["required"]),
        (Some(_), None, None) => f.reject("code", ["required"]),
        _ => f.reject("code", ["one_of_code_or_recovery_code"]),
    }
    f.finish()?;
    let answer = match (&factor_id, &code, &recovery_code) {
        (Some(factor_id), Some(code), None) => Answer::Code { factor_id, code },
        (None, None, Some(recovery_code)) => Answer::RecoveryCode(recovery_code),
        _ => return Err(Error::Internal("fields passed validation but are missing".into())),
    };
    let tenant = &cx.tenant;
    let logged_in = match (mfa_token, &caller) {
        (Some(token), None) => {
            let browser = browser(&req);
            mfa::verify(&app, tenant, &token, browser.as_deref(), answer, &cx.client).await?
        }
        (None, Some(caller)) => {
            let raised = mfa::step_up(&app, tenant, caller.session()?, answer, &cx.client).await?;
            LoggedIn { pair: raised.pair, user: raised.user, session_id: raised.session_id }
        }
        (Some(_), Some(_)) => return Err(Error::field("mfa_token", "not_with_a_session")),
        (None, None) => return Err(Error::field("mfa_token", "required")),
    };
    let reply = token_reply(&app, tenant, "Second factor verified.", &logged_in)?;
    Ok(reply.cookie(crate::edge::cookies::mfa_cleared(tenant)))
}
