//! `PATCH /api/v1/users/me`: changes profile fields. A field given a string is set (after the same
//! checks as at registration), a field given `null` or `""` is cleared, a field left out stays.
//! Nothing else of the account can be changed here.

use std::sync::Arc;

use chrono::Utc;
use lambda_http::Request;
use serde_json::Value;
use shared::App;
use shared::accounts::UserView;
use shared::domain::Profile;
use shared::error::{Error, Result};

use crate::edge::http::{Cx, Fields, Reply};
use crate::edge::identity;
use shared::caller::Caller;

const FIELDS: [&str; 5] = ["name", "username", "first_name", "last_name", "company_name"];

pub async fn handle(app: Arc<App>, req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let who = caller.session()?;
    let mut f = Fields::json(&req)?;
    let mut changes: Vec<(&str, Option<String>)> = Vec::new();
    for field in FIELDS {
        let raw = f.raw(field).cloned();
        let value = match raw {
            None => continue,
            Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => match Profile::parse_field(field, &s, f.errors_mut()) {
                Some(v) => Some(v),
                None => continue, // the rule it broke is recorded
            },
            Some(_) => {
                f.reject(field, ["must_be_string"]);
                continue;
            }
        };
        changes.push((field, value));
    }
    f.finish()?;
    let user = if changes.is_empty() {
        identity::current_user(&app, &who.tenant_id, &who.user_id).await?
    } else {
        app.store
            .update_profile(&who.tenant_id, &who.user_id, &changes, Utc::now())
            .await?
            .ok_or(Error::Unauthorized)?
    };
    Ok(Reply::ok("Profile updated.", UserView::from(&user))?.no_store())
}
