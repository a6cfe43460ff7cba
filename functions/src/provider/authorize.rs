//! `GET /oauth/authorize` of an app's OAuth provider (RFC 6749 section 4.1.1, OIDC Core 3.1.2):
//! checks the request, then shows the login page, the consent page, or sends the browser back
//! with a code or an error. `POST /oauth/authorize` (`authorize_form`) takes the same parameters
//! as a form.

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use shared::App;
use shared::error::Result;
use shared::oauth::authorize;
use shared::oauth::browser;

use crate::edge::http::{Cx, Reply};
use crate::edge::page::PageResult;
use crate::provider::pages::{self, Step};

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
    pages::answer(&cx.tenant, authorize_with(&app, &req, &cx, &params).await)
}

/// An authorization request's parameters, from the query or a form, each as often as sent.
pub async fn authorize_with(app: &App, req: &Request, cx: &Cx, params: &[(String, String)]) -> PageResult {
    let tenant = &cx.tenant;
    pages::limit(app, cx).await?;
    let (request, client) = authorize::parse(app, tenant, params).await?;
    let session = pages::session_value(req, tenant);
    let signed_in = browser::browser_user(app, tenant, session.as_deref()).await?;
    let signed_in = signed_in.map(|(session, user)| (user, session.authn()));
    let next = authorize::next(app, tenant, &client, &request, signed_in, false, &cx.client).await;
    pages::show(app, req, tenant, Step::new(&client, &request), next).await
}
