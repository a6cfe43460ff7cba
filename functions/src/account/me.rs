//! `GET /api/v1/users/me`

use std::sync::Arc;

use lambda_http::Request;
use serde_json::{Map, Value, json};
use shared::App;
use shared::accounts::UserView;
use shared::error::Result;
use shared::model::UserRecord;

use crate::edge::http::{Cx, Reply};
use crate::edge::identity;
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let (tenant, user_id) = caller.user()?;
    let user = identity::current_user(&app, tenant, user_id).await?;
    let view = match &caller {
        // A third party sees what the user consented to (OIDC Core 5.4), in this route's field
        // names, never the whole profile: its consent page named only these scopes.
        Caller::OAuth(holder) => Value::Object(consented(&user, &holder.scopes)),
        _ => json!(UserView::from(&user)),
    };
    Ok(Reply::ok("Current user.", view)?.no_store())
}

/// The profile's fields that `scopes` open: `profile` the name fields, `email` the address and
/// whether it is verified. Providers, company and creation time are not any scope's to give.
fn consented(user: &UserRecord, scopes: &[String]) -> Map<String, Value> {
    let full = UserView::from(user);
    let has = |s: &str| scopes.iter().any(|g| g == s);
    let mut out = Map::new();
    out.insert("id".into(), json!(full.id));
    if has("profile") {
        out.insert("name".into(), json!(full.name));
        out.insert("username".into(), json!(full.username));
        out.insert("first_name".into(), json!(full.first_name));
        out.insert("last_name".into(), json!(full.last_name));
    }
    if has("email") {
        out.insert("email".into(), json!(full.email));
        out.insert("email_verified".into(), json!(full.email_verified));
    }
    out
}
