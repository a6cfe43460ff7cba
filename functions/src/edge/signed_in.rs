//! The answer of a sign-in, shared by every way to sign in (password, magic link, social).

use serde_json::json;
use shared::accounts::{LoggedIn, UserView};
use shared::error::Result;
use shared::mfa::{Pending, SignIn};
use shared::{App, Tenant};

use crate::edge::cookies;
use crate::edge::http::Reply;

/// The answer of every sign-in (password, magic link): the pair, the session and the user, never
/// cached, and the refresh cookie in cookie mode.
pub fn token_reply(app: &App, tenant: &Tenant, message: &str, logged_in: &LoggedIn) -> Result<Reply> {
    let reply = Reply::ok(
        message,
        json!({
            "access_token": logged_in.pair.access_token,
            "refresh_token": logged_in.pair.refresh_token,
            "token_type": "Bearer",
            "expires_in": logged_in.pair.access_expires_in,
            "session_id": logged_in.session_id,
            "user": UserView::from(&logged_in.user),
        }),
    )?
    .no_store();
    Ok(if app.config.refresh_token_cookie {
        reply.cookie(cookies::refresh_cookie(tenant, &logged_in.pair.refresh_token))
    } else {
        reply
    })
}

/// The answer of a first factor: the pair, or (a second factor to give, or to enrol first) the
/// second step's `mfa_token` and the factors it may use, with no token. In cookie mode the
/// `mfa_token` works only with the binding cookie set here.
pub fn sign_in_reply(app: &App, tenant: &Tenant, message: &str, signed_in: &SignIn) -> Result<Reply> {
    match signed_in {
        SignIn::Tokens(logged_in) => token_reply(app, tenant, message, logged_in),
        SignIn::SecondFactor(pending) => second_step(tenant, pending),
    }
}

fn second_step(tenant: &Tenant, pending: &Pending) -> Result<Reply> {
    let message = if pending.enrolment_required {
        "A second factor is required: enrol one to finish signing in."
    } else {
        "A second factor is required to finish signing in."
    };
    let mut body = json!({
        "mfa_required": true,
        "mfa_token": pending.mfa_token,
        "expires_in": shared::mfa::MFA_TOKEN_SECONDS,
        "factors": pending.factors,
    });
    if pending.enrolment_required {
        body["enrolment_required"] = json!(true);
    }
    let reply = Reply::ok(message, body)?.no_store();
    Ok(match &pending.browser_secret {
        Some(secret) => reply.cookie(cookies::mfa_cookie(tenant, secret)),
        None => reply,
    })
}
