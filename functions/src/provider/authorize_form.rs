//! `POST /oauth/authorize` (OIDC Core 3.1.2.1: the authorization endpoint takes POST too): the
//! parameters of `GET /oauth/authorize` as an `application/x-www-form-urlencoded` body.

use std::sync::Arc;

use lambda_http::Request;
use shared::App;
use shared::error::Result;

use crate::edge::http::{Cx, Reply};
use crate::provider::pages;

pub async fn handle(app: Arc<App>, req: Request, cx: Cx) -> Result<Reply> {
    let pairs: Option<Vec<(String, String)>> = crate::edge::http::is_form(&req)
        .then(|| serde_urlencoded::from_bytes(req.body().as_ref()).ok())
        .flatten();
    let outcome = match pairs {
        Some(params) => crate::provider::authorize::authorize_with(&app, &req, &cx, &params).await,
        None => Err(pages::unusable(
            "The request's parameters must be a form (application/x-www-form-urlencoded).",
        )),
    };
    pages::answer(&cx.tenant, outcome)
}
