//! `POST /api/v1/admin/users`: the app's backend creates a user (`email`, optional `password`,
//! `email_verified`, profile fields, `issue_tokens`).

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::accounts::UserView;
use shared::admin::{self, AdminUserView, NewUser};
use shared::caller::Caller;
use shared::domain::{NewPassword, Profile};
use shared::error::{Error, Result};

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let mut f = Fields::json(&req)?;
    let email = f.email("email");
    let password = f.optional("password");
    let email_verified = f.flag("email_verified");
    let issue_tokens = f.flag("issue_tokens");
    let (name, username) = (f.optional("name"), f.optional("username"));
    let (first_name, last_name, company) =
        (f.optional("first_name"), f.optional("last_name"), f.optional("company_name"));
    let profile = Profile::parse(
        name.as_deref(),
        username.as_deref(),
        first_name.as_deref(),
        last_name.as_deref(),
        company.as_deref(),
        f.errors_mut(),
    );
    let password = password.and_then(|p| {
        let mut context: Vec<&str> = profile.guessable_words();
        if let Some(e) = &email {
            context.push(e.as_str());
        }
        NewPassword::parse(&p, cx.tenant.settings.password_policy, &context)
            .map_err(|rules| f.reject("password", rules))
            .ok()
    });
    f.finish()?;
    let email =
        email.ok_or_else(|| Error::Internal("fields passed validation but email is missing".into()))?;
    let input = NewUser { email, password, email_verified, profile, issue_tokens };
    let (user, session) = admin::create_user(&app, &cx.tenant, &caller, input, &cx.client).await?;
    let mut data = json!({ "user": AdminUserView::from(&user) });
    if let Some(s) = session {
        data["access_token"] = json!(s.pair.access_token);
        data["refresh_token"] = json!(s.pair.refresh_token);
        data["token_type"] = json!("Bearer");
        data["expires_in"] = json!(s.pair.access_expires_in);
        data["session_id"] = json!(s.session_id);
        data["user"] = json!(AdminUserView { user: UserView::from(&s.user), ..AdminUserView::from(&user) });
        return Ok(Reply::created("User created and signed in.", data)?.no_store());
    }
    Reply::created("User created.", data)
}
