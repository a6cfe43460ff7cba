//! `GET /oauth/authorize` of an app's OAuth provider (RFC 6749 section 4.1.1, OIDC Core 3.1.2):
//! checks the request, then shows the login page, the consent page, or sends the browser back
//! with a code or an error. `POST /oauth/authorize` (`op_authorize_form`) takes the same
//! parameters as a form.

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::Result;
use shared::oauth::authorize;

use crate::edge::http::{Cx, Reply};
use crate::provider::pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let query = req.query_string_parameters();
    let mut params = Vec::new();
    for (name, _) in query.iter() {
        if params.iter().any(|(n, _): &(String, String)| n == name) {
            continue;
        }
        for value in query.all(name).unwrap_or_default() {
            params.push((name.to_owned(), value.to_owned()));
        }
    }
    authorize_with(&app, &req, &cx, &params).await
}

/// An authorization request's parameters, from the query or a form, each as often as sent.
pub async fn authorize_with(app: &App, req: &Request, cx: &Cx, params: &[(String, String)]) -> Result<Reply> {
    let tenant = &cx.tenant;
    if let Err(e) = pages::limit(app, cx).await {
        return pages::failure(tenant, e);
    }
    let (request, client) = match authorize::parse(app, tenant, params).await {
        Ok(parsed) => parsed,
        Err(refusal) => return pages::refused(tenant, refusal),
    };
    let signed_in =
        match authorize::browser_user(app, tenant, pages::session_value(req, tenant).as_deref()).await {
            Ok(found) => found.map(|(session, user)| (user, session.auth_time)),
            Err(e) => return pages::failure(tenant, e),
        };
    let next = authorize::next(app, tenant, &client, &request, signed_in, false, &cx.client).await;
    pages::show(app, req, tenant, &client, &request, next, None, Vec::new()).await
}
