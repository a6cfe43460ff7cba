//! `POST /oauth/authorize/consent`: the consent page's form. Allow remembers the consent and sends
//! the browser back with a code; deny sends it back with `access_denied`. Only the browser the
//! page was shown to, signed in as the same user, can answer it.

use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::App;
use shared::error::Result;
use shared::oauth::authorize;

use crate::edge::http::{self, Cx, Reply};
use crate::provider::pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let tenant = &cx.tenant;
    if let Err(e) = pages::limit(&app, &cx).await {
        return pages::failure(tenant, e);
    }
    let Some(form) = http::page_form(&req) else { return pages::stale_form(tenant) };
    let sealed = form.get("request").cloned().unwrap_or_default();
    let csrf_token = form.get("csrf_token").cloned().unwrap_or_default();
    let opened =
        authorize::open(&app, tenant, &sealed, &csrf_token, pages::csrf_value(&req, tenant).as_deref()).await;
    let (request, shown_to) = match opened {
        Ok(Some((request, Some(user)))) => (request, user),
        Ok(_) => return pages::stale_form(tenant),
        Err(e) => return pages::failure(tenant, e),
    };
    let signed_in =
        match authorize::browser_user(&app, tenant, pages::session_value(&req, tenant).as_deref()).await {
            Ok(found) => found.filter(|(_, user)| user.user_id == shown_to),
            Err(e) => return pages::failure(tenant, e),
        };
    let Some((session, user)) = signed_in else {
        return pages::message(
            tenant,
            StatusCode::FORBIDDEN,
            "You are no longer signed in",
            "Go back to the application and start again.",
        );
    };
    let client = match pages::client_of(&app, tenant, &request).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    match form.get("decision").map(String::as_str) {
        Some("allow") => {
            match authorize::consent_given(
                &app,
                tenant,
                &client,
                &request,
                &user,
                session.auth_time,
                &cx.client,
            )
            .await
            {
                Ok(url) => Ok(Reply::redirect(url)),
                Err(refusal) => pages::refused(tenant, refusal),
            }
        }
        Some("deny") => Ok(Reply::redirect(authorize::consent_denied(tenant, &request))),
        _ => pages::message(tenant, StatusCode::BAD_REQUEST, "No decision", "Choose Allow or Deny."),
    }
}
