//! Every function's `main`, compiled here once. A binary under `src/bin/` only starts the runtime
//! and awaits its entry: instantiating the Lambda loop and the handler's future inside each binary
//! cost about ten seconds of optimisation per function in the release build, and the linker still
//! keeps only the entry a binary calls (and what it reaches).
//!
//! The table also says what each function warms during its cold start (see `runtime::warm`).

use crate::runtime::{Main, run_authorizer, run_http, run_scheduled, warm};

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
    deletion_request => keys_and_store,
    deletion_status => keys_and_store,
    health => nothing,
    jwks => keys,
    login => login,
    logout => keys_and_store,
    magic_link => store,
    magic_link_verify => keys_and_store,
    openapi => nothing,
    openid_configuration => keys,
    password_change => keys_and_store,
    password_reset => store,
    password_reset_confirm => store,
    register => nothing,
    resend_verification => store,
    session_revoke => keys_and_store,
    sessions_list => keys_and_store,
    sessions_revoke_all => keys_and_store,
    token_refresh => keys_and_store,
    users_me => keys_and_store,
    users_me_audit => keys_and_store,
    users_me_update => keys_and_store,
    verify_email => store,
    verify_token => keys_and_store,
}

/// The Lambda authorizer of the HTTP API.
pub fn authorizer() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function(crate::routes::AUTHORIZER);
    run_authorizer()
}

/// The scheduled purge of accounts whose deletion grace period has ended.
pub fn purge_accounts() -> Main<lambda_runtime::Error> {
    shared::iam::set_process_function("purge_accounts");
    run_scheduled(crate::purge_accounts::handle)
}
