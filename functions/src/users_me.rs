//! `GET /api/v1/users/me`

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::accounts::UserView;
use shared::error::Result;

use crate::http::{Cx, Reply};
use crate::identity;
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, caller: Caller) -> Result<Reply> {
    let (tenant, user_id) = caller.user()?;
    let user = identity::current_user(&app, tenant, user_id).await?;
    Ok(Reply::ok("Current user.", UserView::from(&user))?.no_store())
}
