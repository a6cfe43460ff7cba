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
                run_http(crate::$function::handle, warm::$warm)
            }
        )*
    };
}

http_entries! {
    cors_preflight => nothing,
    deletion_cancel => nothing,
    deletion_confirm => nothing,
    deletion_request => signing_keys,
    deletion_status => signing_keys,
    health => nothing,
    jwks => signing_keys,
    login => login,
    logout => signing_keys,
    magic_link => nothing,
    magic_link_verify => signing_keys,
    openapi => nothing,
    openid_configuration => signing_keys,
    password_change => signing_keys,
    password_reset => nothing,
    password_reset_confirm => nothing,
    register => nothing,
    resend_verification => nothing,
    session_revoke => signing_keys,
    sessions_list => signing_keys,
    sessions_revoke_all => signing_keys,
    token_refresh => signing_keys,
    users_me => signing_keys,
    users_me_audit => signing_keys,
    users_me_update => signing_keys,
    verify_email => nothing,
    verify_token => signing_keys,
}

/// The Lambda authorizer of the HTTP API.
pub fn authorizer() -> Main<lambda_runtime::Error> {
    run_authorizer()
}

/// The scheduled purge of accounts whose deletion grace period has ended.
pub fn purge_accounts() -> Main<lambda_runtime::Error> {
    run_scheduled(crate::purge_accounts::handle)
}
