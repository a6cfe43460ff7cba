//! `GET /api/v1/auth/oauth/providers`: the identity providers the app has configured.

use std::sync::Arc;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;
use shared::social;

use crate::edge::http::{Cx, Reply};

pub async fn handle(app: Arc<App>, _req: Request, cx: Cx) -> Result<Reply> {
    let providers: Vec<_> = social::configured(&app, &cx.tenant)
        .await?
        .into_iter()
        .map(|p| json!({"id": p.as_str(), "name": p.name()}))
        .collect();
    Reply::ok("Identity providers.", json!({ "providers": providers }))
}
