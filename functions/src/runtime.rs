//! What every `main` does: structured logs, the `App` built once per cold start, then the Lambda
//! runtime loop. Kept here so that each binary is a few lines.

use std::future::Future;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::App;
use shared::audit::ClientInfo;
use shared::error::Result;
use tracing_subscriber::EnvFilter;

use crate::http::{self, Reply};

/// Whether a function warms its signing keys during the cold start (outside any user's request)
/// rather than on its first request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Warm {
    Nothing,
    SigningKeys,
    /// The signing keys and the dummy password hash that unknown emails are checked against.
    Login,
}

/// JSON logs, one object per line. The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// logging config) or `RUST_LOG`, INFO by default. The runtime crates are capped at INFO whatever is
/// asked: at TRACE they print raw event payloads, which hold passwords and tokens.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let mut filter =
        EnvFilter::try_new(level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    for capped in [
        "lambda_runtime=info",
        "lambda_runtime_api_client=info",
        "lambda_http=info",
        "aws_smithy_runtime=info",
        "aws_sdk_dynamodb=info",
        "aws_sdk_sesv2=info",
        "aws_sdk_secretsmanager=info",
        "hyper=info",
        "h2=info",
    ] {
        if let Ok(d) = capped.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .try_init();
}

async fn build_app(warm: Warm) -> std::result::Result<Arc<App>, lambda_http::Error> {
    let app = Arc::new(App::from_env().await?);
    if warm == Warm::Login {
        // Built off the request path, so that the first unknown-email login of a container takes
        // no longer than any other.
        let _ = tokio::task::spawn_blocking(shared::crypto::dummy_hash).await;
    }
    if matches!(warm, Warm::SigningKeys | Warm::Login) {
        // A failure here is not fatal: the key load is retried on the first request, which then
        // answers 503 if Secrets Manager is still unreachable.
        if let Err(e) = app.keys.ring().await {
            tracing::warn!(error = %e, "signing keys could not be loaded at start; will retry");
        }
    }
    Ok(app)
}

/// Runs an HTTP endpoint.
pub async fn run_http<H, Fut>(handler: H, warm: Warm) -> std::result::Result<(), lambda_http::Error>
where
    H: Fn(Arc<App>, Request, ClientInfo) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply>> + Send,
{
    init_tracing();
    let app = build_app(warm).await?;
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let app = app.clone();
        async move { Ok::<Response<Body>, std::convert::Infallible>(http::serve(app, req, handler).await) }
    }))
    .await
}

/// Runs a scheduled function (EventBridge, or `cargo lambda invoke` by hand).
pub async fn run_scheduled<H, Fut>(handler: H) -> std::result::Result<(), lambda_runtime::Error>
where
    H: Fn(Arc<App>, serde_json::Value) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<serde_json::Value, shared::Error>> + Send,
{
    init_tracing();
    let app = build_app(Warm::Nothing).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move {
                handler(app, event.payload).await.map_err(|e| {
                    tracing::error!(error = %e, "scheduled run failed");
                    lambda_runtime::Diagnostic {
                        error_type: e.code().to_owned(),
                        error_message: e.public_message(),
                    }
                })
            }
        },
    ))
    .await
}

/// Runs the authorizer.
pub async fn run_authorizer() -> std::result::Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = build_app(Warm::SigningKeys).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<crate::authorizer::AuthorizerRequest>| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(crate::authorizer::handle(&app, event.payload).await) }
        },
    ))
    .await
}
