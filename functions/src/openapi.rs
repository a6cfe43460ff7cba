//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API (`docs/openapi.yaml`), built
//! into the binary and converted to JSON once per container.

use std::sync::{Arc, OnceLock};

use crate::http::Cx;
use lambda_http::Request;
use serde_json::Value;
use shared::App;
use shared::error::{Error, Result};

use crate::http::Reply;

pub const SOURCE: &str = include_str!("../../docs/openapi.yaml");

/// The document as JSON.
pub fn document() -> Result<&'static Value> {
    static DOC: OnceLock<std::result::Result<Value, String>> = OnceLock::new();
    DOC.get_or_init(|| serde_yaml::from_str::<Value>(SOURCE).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Internal(format!("docs/openapi.yaml does not parse: {e}")))
}

pub async fn handle(_app: Arc<App>, _req: Request, _cx: Cx) -> Result<Reply> {
    Ok(Reply::document(document()?)?.cache("public, max-age=300"))
}
