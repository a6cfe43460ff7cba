//! Every function's `main`, compiled here once. A binary under `src/bin/` only starts the runtime
//! and awaits its entry: instantiating the Lambda loop and the handler's future inside each binary
//! cost about ten seconds of optimisation per function in the release build, and the linker still
//! keeps only the entry a binary calls (and what it reaches).

use std::sync::Arc;

use shared::App;

use crate::events::{authorizer, mailer, purge_accounts};
use crate::runtime::{Main, run_event, run_scheduled, warm};

/// The HTTP endpoints' entries come from the endpoint table (`routes`), which also says what each
/// function warms during its cold start (see `runtime::warm`).
pub use crate::routes::entries::*;

/// The Lambda authorizer of the HTTP API.
pub fn authorizer() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function(crate::routes::AUTHORIZER);
    run_event(|app: Arc<App>, event| async move { authorizer::handle(&app, event).await }, warm::public_keys)
}

/// The mailer, fed by the table's DynamoDB stream.
pub fn mailer() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function(crate::routes::MAILER);
    run_event(|app: Arc<App>, event| async move { mailer::handle(&app, event).await }, warm::store)
}

/// The scheduled purge of accounts whose deletion grace period has ended.
pub fn purge_accounts() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function("purge_accounts");
    run_scheduled(purge_accounts::handle)
}
