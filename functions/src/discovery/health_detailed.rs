//! `GET /api/v1/health/detailed` (scope `system:read`): the state of each dependency, each asked
//! with a short deadline. The answer is 200 whatever it finds: a dependency that is down is named,
//! never turned into a failed request.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lambda_http::Request;
use serde_json::json;
use shared::App;
use shared::caller::Caller;
use shared::error::Result;

use crate::edge::http::{Cx, Reply};

/// How long each dependency may take to answer before it counts as unavailable.
const DEADLINE: Duration = Duration::from_millis(1500);

pub async fn handle(app: Arc<App>, _req: Request, _cx: Cx, _caller: Caller) -> Result<Reply> {
    let (dynamodb, ses, secrets_manager) =
        tokio::join!(state(app.store.public_keys()), state(app.mailer.check()), state(app.keys.check()),);
    let all_ok = [dynamodb, ses, secrets_manager].iter().all(|s| *s == "ok");
    Ok(Reply::ok(
        "Dependency states.",
        json!({
            "status": if all_ok { "ok" } else { "degraded" },
            "dependencies": { "dynamodb": dynamodb, "ses": ses, "secrets_manager": secrets_manager },
            "version": env!("CARGO_PKG_VERSION"),
        }),
    )?
    .no_store())
}

/// `ok`, or `unavailable` for an error or an answer later than the deadline (the cause is logged).
async fn state<T>(check: impl Future<Output = Result<T>>) -> &'static str {
    match tokio::time::timeout(DEADLINE, check).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: a dependency failed");
            "unavailable"
        }
        Err(_) => {
            tracing::warn!("health check: a dependency did not answer in time");
            "unavailable"
        }
    }
}
