//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API (`docs/openapi.yaml`), built
//! into the binary and converted to JSON once per container.
//!
//! The file describes each route once, at its root path; every app serves the same route under
//! `/apps/{app_id}` (contract, "One rule for paths"), and the document says so by the same rule
//! that `routes` applies: each path of an app-scoped route is repeated there, with the `app_id`
//! parameter and its 404 for an unknown app.

use std::sync::{Arc, OnceLock};

use crate::edge::http::Cx;
use lambda_http::Request;
use serde_json::{Value, json};
use shared::App;
use shared::error::{Error, Result};

use crate::edge::http::Reply;

pub const SOURCE: &str = include_str!("../../../docs/openapi.yaml");

/// The document as JSON, with every app's paths.
pub fn document() -> Result<&'static Value> {
    static DOC: OnceLock<std::result::Result<Value, String>> = OnceLock::new();
    DOC.get_or_init(|| serde_yaml::from_str::<Value>(SOURCE).map(with_app_paths).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Internal(format!("docs/openapi.yaml does not parse: {e}")))
}

/// Adds `/apps/{app_id}` + `P` for every path `P` that an app-scoped route serves.
fn with_app_paths(mut doc: Value) -> Value {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return doc };
    let app_paths: Vec<(String, Value)> = paths
        .iter()
        .filter(|(path, _)| {
            crate::routes::routes().iter().any(|r| r.path == format!("/apps/{{app_id}}{path}"))
        })
        .map(|(path, item)| {
            let mut item = item.clone();
            if let Some(operations) = item.as_object_mut() {
                for operation in operations.values_mut().filter_map(Value::as_object_mut) {
                    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
                    if let Some(list) = parameters.as_array_mut() {
                        list.insert(0, app_id_parameter());
                    }
                    if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
                        responses
                            .entry("404")
                            .or_insert_with(|| json!({"$ref": "#/components/responses/NotFound"}));
                    }
                }
            }
            (format!("/apps/{{app_id}}{path}"), item)
        })
        .collect();
    paths.extend(app_paths);
    doc
}

fn app_id_parameter() -> Value {
    json!({
        "name": "app_id",
        "in": "path",
        "required": true,
        "description": "The app: `default`, `console`, or a created app's id. An unknown or malformed id is 404.",
        "schema": {"type": "string", "pattern": "^(default|console|app_[a-z0-9]{16})$"},
    })
}

pub async fn handle(_app: Arc<App>, _req: Request, _cx: Cx) -> Result<Reply> {
    Ok(Reply::document(document()?)?.cache("public, max-age=300"))
}
