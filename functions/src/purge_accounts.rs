//! The scheduled purge (EventBridge, daily; by hand with `cargo lambda invoke purge_accounts
//! --data-ascii '{}'`): erases every account whose deletion grace period is over.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use shared::App;
use shared::recovery;

pub async fn handle(app: Arc<App>, _event: Value) -> Result<Value, shared::Error> {
    let purged =
        shared::iam::as_function("purge_accounts", recovery::purge_due_accounts(&app, Utc::now())).await?;
    tracing::info!(purged, "purge finished");
    Ok(json!({ "purged": purged }))
}
