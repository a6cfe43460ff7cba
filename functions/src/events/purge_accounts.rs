//! The scheduled purge (EventBridge, daily; by hand with `cargo lambda invoke purge_accounts
//! --data-ascii '{}'`): erases every account whose deletion grace period is over, and the data of
//! every deleted app.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use shared::App;
use shared::recovery;

pub async fn handle(app: Arc<App>, _event: Value) -> Result<Value, shared::Error> {
    let now = Utc::now();
    // The two purges are independent: a failure of one still lets the other run.
    let accounts = shared::iam::as_function("purge_accounts", recovery::purge_due_accounts(&app, now)).await;
    let apps =
        shared::iam::as_function("purge_accounts", shared::console::erase_deleted_apps(&app, now)).await;
    let (purged, (apps, app_users)) = (accounts?, apps?);
    tracing::info!(purged, apps, app_users, "purge finished");
    Ok(json!({ "purged": purged, "apps_erased": apps, "app_users_erased": app_users }))
}
