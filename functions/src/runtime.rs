//! What every `main` does: structured logs, the `App` built once per cold start, then the Lambda
//! runtime loop. Kept here so that each binary is a few lines.
//!
//! Every `main` runs on tokio's single-threaded runtime: a Lambda container serves one request at
//! a time, so worker threads would only add start-up time and cross-thread wake-ups per request
//! (password hashing runs on the blocking pool either way).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::App;
use shared::error::Result;
use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::edge::http::{self, Cx, Reply, Shows};

/// A boxed future: what lets the Lambda loop below be compiled once, in this library, instead of
/// once per binary (each instantiation of `lambda_http::run` and its service stack took about ten
/// seconds of optimisation per function in the release build).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a function prepares during its cold start, outside any user's request, rather than on its
/// first request. A function pointer chosen in `entry`'s table: a function links only the warm-up
/// it names, so `health` carries no Secrets Manager client, JWT code or Argon2 (`docs/performance.md`).
pub type Warm = for<'a> fn(&'a App) -> BoxFuture<'a, ()>;

pub mod warm {
    //! The connections a function's first request needs are opened here, during the cold start:
    //! Lambda runs the init phase before the first request and, for proactive and provisioned
    //! initialisation, long before it; either way the TCP and TLS handshakes to DynamoDB and
    //! Secrets Manager run side by side instead of one after the other inside the request.

    use shared::App;

    use super::BoxFuture;

    /// Nothing beyond the configuration and the (lazily built) clients: the functions that touch
    /// no AWS service, and `register`, whose only DynamoDB call is its write (its role may not
    /// read, so it has nothing to open the connection with).
    pub fn nothing(_: &App) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// The public keys (one read of the table, which opens the DynamoDB connection too), for
    /// every function that verifies tokens but never signs one: the authorizer, the bearer routes,
    /// `jwks` and discovery. They never reach Secrets Manager.
    pub fn public_keys(app: &App) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Not fatal: the first request reads them again (and answers 503 if it cannot).
            if let Err(e) = app.verifier(None).await {
                tracing::warn!(error = %e, "public keys could not be loaded at start; will retry");
            }
        })
    }

    /// The DynamoDB connection, for the functions that read the table but handle no tokens.
    pub fn store(app: &App) -> BoxFuture<'_, ()> {
        Box::pin(app.store.warm_up())
    }

    /// The private ring and the DynamoDB connection, concurrently: the functions that sign.
    pub fn keys_and_store(app: &App) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            tokio::join!(load_keys(app), app.store.warm_up());
        })
    }

    /// Both, and the dummy password hash that unknown emails are checked against (on the blocking
    /// pool, meanwhile), so that the first unknown-email login of a container takes no longer
    /// than any other.
    pub fn login(app: &App) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let dummy = async {
                // A failed task only means the first unknown-email login builds the hash itself.
                let _ = tokio::task::spawn_blocking(shared::crypto::dummy_hash).await;
            };
            tokio::join!(load_keys(app), app.store.warm_up(), dummy);
        })
    }

    async fn load_keys(app: &App) {
        // Not fatal: the key load is retried on the first request, which then answers 503 if
        // Secrets Manager is still unreachable.
        if let Err(e) = app.keys.ring().await {
            tracing::warn!(error = %e, "signing keys could not be loaded at start; will retry");
        }
    }
}

/// JSON logs, one object per line. The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// logging config) or `RUST_LOG`, INFO by default.
pub fn init_tracing() {
    let spec =
        std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(true),
        )
        .with(log_filter(&spec))
        .try_init();
}

/// Crates whose DEBUG and TRACE events print raw event payloads or requests, which hold
/// passwords and tokens: capped at INFO whatever is asked.
const CAPPED: [&str; 10] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "aws_smithy_runtime",
    "aws_sdk_dynamodb",
    "aws_sdk_sesv2",
    "aws_sdk_secretsmanager",
    "aws_sdk_kms",
    "hyper",
    "h2",
];

/// The filter for a `RUST_LOG`-style spec (`warn`, `info,shared=debug`) or one of Lambda's levels
/// (`TRACE` .. `FATAL`); anything unreadable means INFO. A `Targets` filter rather than
/// `EnvFilter`: per-target levels are all a function needs, and `EnvFilter`'s span and field
/// matching brings a regex engine into every binary and a per-event cost.
pub fn log_filter(spec: &str) -> Targets {
    let spec = match spec.trim().to_ascii_lowercase() {
        s if s == "fatal" => "error".to_owned(),
        s if s.is_empty() => "info".to_owned(),
        s => s,
    };
    let mut targets: Targets =
        spec.parse().unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    for target in CAPPED {
        let asked = [Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN, Level::ERROR]
            .into_iter()
            .find(|level| targets.would_enable(target, level))
            .map_or(LevelFilter::OFF, LevelFilter::from_level);
        targets = targets.with_target(target, asked.min(LevelFilter::INFO));
    }
    targets
}

async fn build_app(warm: Warm) -> std::result::Result<Arc<App>, lambda_http::Error> {
    let app = Arc::new(App::from_env()?);
    warm(&app).await;
    Ok(app)
}

/// What a `main` awaits: boxed, so that the binary neither compiles the loop nor computes the
/// layout of its deeply nested future (which overflows rustc's query depth in release builds).
pub type Main<E> = Pin<Box<dyn Future<Output = std::result::Result<(), E>>>>;

type Handler = Arc<dyn Fn(Arc<App>, Request, Cx) -> BoxFuture<'static, Result<Reply>> + Send + Sync>;

/// Runs an HTTP endpoint. Only the boxing of `handler` is generic; the loop is not.
pub fn run_http<H, Fut>(handler: H, shows: Shows, warm: Warm) -> Main<lambda_http::Error>
where
    H: Fn(Arc<App>, Request, Cx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply>> + Send + 'static,
{
    Box::pin(run_http_loop(Arc::new(move |app, req, cx| Box::pin(handler(app, req, cx))), shows, warm))
}

async fn run_http_loop(
    handler: Handler,
    shows: Shows,
    warm: Warm,
) -> std::result::Result<(), lambda_http::Error> {
    init_tracing();
    let app = build_app(warm).await?;
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let app = app.clone();
        let handler = handler.clone();
        async move {
            Ok::<Response<Body>, std::convert::Infallible>(
                http::serve(app, req, shows, move |app, req, cx| handler(app, req, cx)).await,
            )
        }
    }))
    .await
}

/// Runs a scheduled function (EventBridge, or `cargo lambda invoke` by hand).
pub fn run_scheduled<H, Fut>(handler: H) -> Main<lambda_runtime::Error>
where
    H: Fn(Arc<App>, serde_json::Value) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<serde_json::Value, shared::Error>> + Send + 'static,
{
    Box::pin(run_scheduled_loop(handler))
}

async fn run_scheduled_loop<H, Fut>(handler: H) -> std::result::Result<(), lambda_runtime::Error>
where
    H: Fn(Arc<App>, serde_json::Value) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<serde_json::Value, shared::Error>> + Send,
{
    init_tracing();
    let app = build_app(warm::nothing).await?;
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

/// Runs a function fed by an AWS event (the authorizer's requests, the table's stream): `handler`
/// answers every event, failures included, in the event's own response shape.
pub fn run_event<E, R, H, Fut>(handler: H, warm: Warm) -> Main<lambda_runtime::Error>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    H: Fn(Arc<App>, E) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
{
    Box::pin(async move {
        init_tracing();
        let app = build_app(warm).await?;
        lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<E>| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(handler(app, event.payload).await) }
        }))
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(filter: &Targets, target: &str) -> Option<Level> {
        [Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN, Level::ERROR]
            .into_iter()
            .find(|level| filter.would_enable(target, level))
    }

    #[test]
    fn lambda_levels_and_rust_log_specs_are_read() {
        assert_eq!(enabled(&log_filter(""), "functions"), Some(Level::INFO));
        assert_eq!(enabled(&log_filter("DEBUG"), "shared::store"), Some(Level::DEBUG));
        assert_eq!(enabled(&log_filter("FATAL"), "functions"), Some(Level::ERROR));
        assert_eq!(enabled(&log_filter("warn,shared=trace"), "shared::keys"), Some(Level::TRACE));
        assert_eq!(enabled(&log_filter("warn,shared=trace"), "functions"), Some(Level::WARN));
        assert_eq!(enabled(&log_filter("nonsense=="), "functions"), Some(Level::INFO));
    }

    #[test]
    fn crates_that_print_payloads_never_go_below_info() {
        let filter = log_filter("trace");
        assert_eq!(enabled(&filter, "functions::login"), Some(Level::TRACE));
        for target in ["lambda_runtime", "lambda_http::request", "aws_smithy_runtime::client", "hyper"] {
            assert_eq!(enabled(&filter, target), Some(Level::INFO), "{target}");
        }
        // A quieter level than INFO is kept as asked.
        assert_eq!(enabled(&log_filter("error"), "lambda_runtime"), Some(Level::ERROR));
        assert_eq!(enabled(&log_filter("off"), "hyper"), None);
    }
}
