//! `POST /api/v1/auth/password/change`: the caller proves the current password and sets a new one.
//! Every other session ends; the caller's stays. The user's API keys end too unless the body says
//! `keep_api_keys: true`.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::{Error, Result};
use shared::recovery;

use crate::edge::http::{Cx, Fields, Reply};
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Caller) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let who = caller.session()?;
    let mut f = Fields::json(&req)?;
    let current = f.required("current_password");
    let new_password = f.required("new_password");
    // The user's API keys end with the old password unless the user says they stay.
    let keep_api_keys = f.flag("keep_api_keys");
    f.finish()?;
    let (Some(current), Some(new_password)) = (current, new_password) else {
        return Err(Error::Internal("fields passed validation but are missing".into()));
    };
    recovery::change_password(&app, &tenant, who, &current, &new_password, keep_api_keys, &client).await?;
    Reply::ok("Password changed. Other devices have been signed out.", json!({}))
}
