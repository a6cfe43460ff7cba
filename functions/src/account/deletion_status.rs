//! `GET /api/v1/account/deletion`: `none`, `requested` or `pending` (with `scheduled_for`), for the
//! bearer's account or, since a pending account has no sessions, for the holder of the notice's
//! cancel link (`?token=`).

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::Result;
use shared::ratelimit::{self, Route};
use shared::recovery;

use crate::edge::http::{Cx, Reply};
use crate::edge::identity;
use shared::caller::Caller;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx, caller: Option<Caller>) -> Result<Reply> {
    let Cx { tenant, client } = cx;
    let token = req.query_string_parameters_ref().and_then(|q| q.first("token")).map(str::to_owned);
    let status = match token {
        Some(t) => {
            // The token is the only credential here: limited per IP like the other token routes.
            ratelimit::hit(&app, &tenant.id, Route::DeletionStatus, &client, None).await?;
            recovery::deletion_status_by_cancel_token(&app, &tenant, &t).await?
        }
        None => {
            let caller = caller.ok_or(shared::Error::Unauthorized)?;
            let who = caller.session()?;
            recovery::deletion_status(
                &identity::current_user(&app, &who.tenant_id, &who.user_id).await?,
                app.config.deletion_token_ttl,
            )
        }
    };
    Ok(Reply::ok("Deletion status.", status)?.no_store())
}
