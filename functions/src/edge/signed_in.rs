//! The answer of a sign-in, shared by every way to sign in (password, magic link, social).

use serde_json::json;
use shared::accounts::{LoggedIn, UserView};
use shared::error::Result;
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
