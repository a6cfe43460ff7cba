//! `POST /api/v1/auth/login`: JSON `{email, password}`, or the OAuth2 password form
//! (`application/x-www-form-urlencoded`, `username` and `password`).

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::accounts::{self, LoggedIn, UserView};
use shared::domain::Email;
use shared::error::{Error, Result};
use shared::{App, Tenant};

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    cookies::guard_sign_in(&req, &app.config, &tenant)?;
    let (mut f, email_field) =
        if http::is_form(&req) { (Fields::form(&req)?, "username") } else { (Fields::json(&req)?, "email") };
    let email = f.required(email_field);
    let password = f.required("password");
    let email = email.and_then(|e| Email::parse(&e).map_err(|rule| f.reject(email_field, [rule])).ok());
    f.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(Error::Internal("fields passed validation but are missing".into()));
    };

    let logged_in = accounts::login(&app, &tenant, &email, &password, &client).await?;
    token_reply(&app, &tenant, "Logged in.", &logged_in)
}

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
