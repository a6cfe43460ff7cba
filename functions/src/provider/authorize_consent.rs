//! `POST /oauth/authorize/consent`: the consent page's form. Allow remembers the consent and sends
//! the browser back with a code; deny sends it back with `access_denied`. Only the browser the
//! page was shown to, signed in as the same user, can answer it.

use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::App;
use shared::error::Result;
use shared::oauth::authorize;
use shared::oauth::browser;

use crate::edge::http::{Cx, Reply};
use crate::edge::page::{PageResult, Stop};
use crate::provider::pages::{self, Posted};

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    pages::answer(&cx.tenant, consent(&app, &req, &cx).await)
}

async fn consent(app: &App, req: &Request, cx: &Cx) -> PageResult {
    let tenant = &cx.tenant;
    let form = Posted::read(app, req, cx).await?;
    let (_, request, shown_to) = form.request(app, req, tenant).await?;
    let shown_to = shown_to.ok_or_else(pages::stale_form)?;
    let session = pages::session_value(req, tenant);
    let signed_in = browser::browser_user(app, tenant, session.as_deref()).await?;
    let Some((session, user)) = signed_in.filter(|(_, user)| user.user_id == shown_to) else {
        return Err(Stop::message(
            StatusCode::FORBIDDEN,
            "You are no longer signed in",
            "Go back to the application and start again.",
        ));
    };
    let client = pages::client_of(app, tenant, &request).await?;
    match form.get("decision").map(String::as_str) {
        Some("allow") => {
            let authn = session.authn();
            let given = authorize::consent_given(app, tenant, &client, &request, &user, &authn, &cx.client);
            Ok(Reply::redirect(given.await?))
        }
        Some("deny") => Ok(Reply::redirect(authorize::consent_denied(tenant, &request))),
        _ => Err(Stop::message(StatusCode::BAD_REQUEST, "No decision", "Choose Allow or Deny.")),
    }
}
