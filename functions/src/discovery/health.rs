//! `GET /api/v1/health`: liveness. It touches no dependency, so that it stays cheap to poll and
//! says only that the function starts and answers.

use std::sync::Arc;

use crate::edge::http::Cx;
use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::error::Result;

use crate::edge::http::Reply;

pub async fn handle(_app: Arc<App>, _req: Request, _cx: Cx) -> Result<Reply> {
    Reply::ok("The service is up.", json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}
