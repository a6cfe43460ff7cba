//! `POST /api/v1/auth/register`

use std::sync::Arc;

use lambda_http::Request;
use shared::accounts::{self, RegisterInput};
use shared::domain::{Email, NewPassword, Profile};
use shared::error::{Error, Result};
use shared::{App, Tenant};

use crate::edge::http::{Cx, Fields, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let input = parse(&tenant, Fields::json(&req)?)?;
    let registered = accounts::register(&app, &tenant, input, &client).await?;
    Reply::created("Account created. Check your inbox to verify your email address.", registered)
}

/// A sign-up's fields (here and on the dashboard's form), by the app's password policy.
pub fn parse(tenant: &Tenant, mut f: Fields) -> Result<RegisterInput> {
    let email = f.required("email");
    let password = f.required("password");
    let (name, username) = (f.optional("name"), f.optional("username"));
    let (first_name, last_name) = (f.optional("first_name"), f.optional("last_name"));
    let company_name = f.optional("company_name");

    let email = email.and_then(|e| Email::parse(&e).map_err(|rule| f.reject("email", [rule])).ok());
    let profile = Profile::parse(
        name.as_deref(),
        username.as_deref(),
        first_name.as_deref(),
        last_name.as_deref(),
        company_name.as_deref(),
        f.errors_mut(),
    );
    let password = password.and_then(|p| {
        // The estimator is told what an attacker would try first: the address and the names.
        let mut context: Vec<&str> = profile.guessable_words();
        if let Some(e) = &email {
            context.push(e.as_str());
        }
        NewPassword::parse(&p, tenant.settings.password_policy, &context)
            .map_err(|rules| f.reject("password", rules))
            .ok()
    });
    f.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(Error::Internal("fields passed validation but are missing".into()));
    };
    Ok(RegisterInput { email, password, profile })
}
