//! `PATCH /api/v1/admin/users/{user_id}`: `disabled`, `email_verified`, profile fields (a string
//! sets, `null` or `""` clears).

use std::sync::Arc;

use lambda_http::Request;
use serde_json::Value;
use shared::App;
use shared::admin::{self, AdminUserView, UserChanges};
use shared::caller::Caller;
use shared::domain::Profile;
use shared::error::Result;

use crate::edge::http::{self, Cx, Fields, Reply};

const PROFILE: [&str; 5] = ["name", "username", "first_name", "last_name", "company_name"];

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let user_id = http::user_id_param(&req)?;
    let mut f = Fields::json(&req)?;
    let mut changes = UserChanges::default();
    for (field, slot) in
        [("disabled", &mut changes.disabled), ("email_verified", &mut changes.email_verified)]
    {
        match f.raw(field) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => *slot = Some(*b),
            Some(_) => f.reject(field, ["must_be_boolean"]),
        }
    }
    for field in PROFILE {
        match f.raw(field).cloned() {
            None => {}
            Some(Value::Null) => changes.profile.push((field, None)),
            Some(Value::String(s)) if s.trim().is_empty() => changes.profile.push((field, None)),
            Some(Value::String(s)) => {
                if let Some(v) = Profile::parse_field(field, &s, f.errors_mut()) {
                    changes.profile.push((field, Some(v)));
                }
            }
            Some(_) => f.reject(field, ["must_be_string"]),
        }
    }
    f.finish()?;
    let user = admin::update_user(&app, &cx.tenant, &caller, &user_id, changes, &cx.client).await?;
    Ok(Reply::ok("User updated.", AdminUserView::from(&user))?.no_store())
}
