//! `GET /api/v1/admin/users/{user_id}`: one user of the app.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::admin::{self, AdminUserView};
use shared::caller::Caller;
use shared::error::Result;

use crate::edge::http::{self, Cx, Reply};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, _caller: Caller) -> Result<Reply> {
    let user_id = http::user_id_param(&req)?;
    let user = admin::user(&app, &cx.tenant, &user_id).await?;
    Ok(Reply::ok("User.", AdminUserView::from(&user))?.no_store())
}
