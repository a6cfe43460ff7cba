//! Every function's `main`, compiled here once. A binary under `src/bin/` only starts the runtime
//! and awaits its entry: instantiating the Lambda loop and the handler's future inside each binary
//! cost about ten seconds of optimisation per function in the release build, and the linker still
//! keeps only the entry a binary calls (and what it reaches).
//!
//! The table also says what each function warms during its cold start (see `runtime::warm`).

use crate::runtime::{Main, run_authorizer, run_http, run_mailer, run_scheduled, warm};

macro_rules! http_entries {
    ($($function:ident => $warm:ident,)*) => {
        $(
            #[doc = concat!("`", stringify!($function), "`: `", stringify!($function), "::handle` behind the HTTP API.")]
            pub fn $function() -> Main<lambda_http::Error> {
                shared::iam::set_process_function(stringify!($function));
                run_http(crate::$function::handle, warm::$warm)
            }
        )*
    };
}

http_entries! {
    cors_preflight => nothing,
    deletion_cancel => store,
    deletion_confirm => store,
    deletion_request => public_keys,
    deletion_status => public_keys,
    health => nothing,
    jwks => public_keys,
    login => login,
    logout => public_keys,
    magic_link => store,
    magic_link_verify => keys_and_store,
    openapi => nothing,
    openid_configuration => public_keys,
    password_change => public_keys,
    password_reset => store,
    password_reset_confirm => store,
    register => nothing,
    resend_verification => store,
    session_revoke => public_keys,
    sessions_list => public_keys,
    sessions_revoke_all => public_keys,
    token_refresh => keys_and_store,
    users_me => public_keys,
    users_me_audit => public_keys,
    users_me_update => public_keys,
    verify_email => store,
    verify_token => public_keys,
}

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
