//! `GET /api/v1/account/deletion`: `none`, `requested` or `pending` (with `scheduled_for`), for the
//! bearer's account or, since a pending account has no sessions, for the holder of the notice's
//! cancel link (`?token=`).

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use shared::App;
use shared::audit::ClientInfo;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::http::Reply;
use crate::identity;

pub async fn handle(app: Arc<App>, req: Request, client: ClientInfo) -> Result<Reply> {
    let token = req.query_string_parameters_ref().and_then(|q| q.first("token")).map(str::to_owned);
    let status = match token {
        Some(t) => {
            // The token is the only credential here: limited per IP like the other token routes.
            ratelimit::hit(&app, Route::DeletionStatus, &client, None).await?;
            recovery::deletion_status_by_cancel_token(&app, &t).await?
        }
        None => {
            let who = identity::identify(&app, &req).await?;
            recovery::deletion_status(
                &identity::current_user(&app, &who).await?,
                app.config.deletion_token_ttl,
            )
        }
    };
    Ok(Reply::ok("Deletion status.", status)?.no_store())
}
