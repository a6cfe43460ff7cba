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
    let who = caller.session()?;
    let user = identity::current_user(&app, who).await?;
    Ok(Reply::ok("Current user.", UserView::from(&user))?.no_store())
}
