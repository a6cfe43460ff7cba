//! `GET /api/v1/users/me`

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::accounts::UserView;
use shared::audit::ClientInfo;
use shared::error::Result;

use crate::http::Reply;
use crate::identity;

pub async fn handle(app: Arc<App>, req: Request, _client: ClientInfo) -> Result<Reply> {
    let who = identity::identify(&app, &req).await?;
    let user = identity::current_user(&app, &who).await?;
    Ok(Reply::ok("Current user.", UserView::from(&user))?.no_store())
}
