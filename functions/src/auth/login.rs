//! `POST /api/v1/auth/login`: JSON `{email, password}`, or the OAuth2 password form
//! (`application/x-www-form-urlencoded`, `username` and `password`).

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::accounts;
use shared::domain::Email;
use shared::error::{Error, Result};

use crate::edge::cookies;
use crate::edge::http::{self, Cx, Fields, Reply};
use crate::edge::signed_in::sign_in_reply;

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

    let signed_in =
        accounts::login(&app, &tenant, &email, &password, &client, app.config.refresh_token_cookie).await?;
    sign_in_reply(&app, &tenant, "Logged in.", &signed_in)
}
