//! Every function's `main`, compiled here once. A binary under `src/bin/` only starts the runtime
//! and awaits its entry: instantiating the Lambda loop and the handler's future inside each binary
//! cost about ten seconds of optimisation per function in the release build, and the linker still
//! keeps only the entry a binary calls (and what it reaches).

use crate::runtime::{Main, run_authorizer, run_mailer, run_scheduled};

/// The HTTP endpoints' entries come from the endpoint table (`routes`), which also says what each
/// function warms during its cold start (see `runtime::warm`).
pub use crate::routes::entries::*;

/// The Lambda authorizer of the HTTP API.
pub fn authorizer() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function(crate::routes::AUTHORIZER);
    run_authorizer()
}

/// The mailer, fed by the table's DynamoDB stream.
pub fn mailer() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function(crate::routes::MAILER);
    run_mailer()
}

/// The scheduled purge of accounts whose deletion grace period has ended.
pub fn purge_accounts() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function("purge_accounts");
    run_scheduled(crate::purge_accounts::handle)
}
