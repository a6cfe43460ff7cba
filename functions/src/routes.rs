//! Every endpoint, declared once: its function (binary) and the handler module that serves it,
//! method and path, who may call it (`Access`), whether every app serves it (at `path` and
//! `/apps/{app_id}` + `path`) or the service once, how the edge shows what it refuses before the
//! handler runs, and what its function warms at a cold start. From this one table come the route
//! table (`routes()`), the in-process dispatch (`dispatch`, used by the tests and the bench), each
//! binary's entry (`entry::<function>`) and the caller check in front of every handler.
//!
//! `infra/template.yaml`, the `cargo lambda watch` router in the workspace `Cargo.toml`, the binaries
//! under `src/bin` and `docs/openapi.yaml` are held to `routes()` by tests (`tests/tests/api/contract.rs`).

use std::sync::{Arc, OnceLock};

use lambda_http::{Body, Request, Response};
use shared::App;

pub use crate::edge::access::Access;
use crate::edge::http::{Shows, serve};

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    pub access: Access,
}

impl Route {
    /// Served without the authorizer.
    pub fn is_public(&self) -> bool {
        self.access.is_public()
    }
}

/// Where an endpoint is served: by every app (at `path` and at `/apps/{app_id}` + `path`, contract
/// "One rule for paths"), or once for the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Serves {
    EveryApp,
    Service,
}
use Serves::{EveryApp as EVERY_APP, Service as SERVICE};

/// The envelope, for what the edge refuses: every route but the dashboard's.
const ENVELOPE: Shows = Shows::Envelope;
/// The dashboard's pages show the edge's refusals as a page of their own.
const DASHBOARD_PAGE: Shows = Shows::Page(crate::dashboard::edge_failure);

/// One endpoint as declared.
struct Endpoint {
    route: Route,
    serves: Serves,
}

/// A row is one function: its handler's module, its routes (`method path`, several joined by `|`
/// for a function that routes in-process, like the dashboard), its access, where it is served, how
/// the edge's refusals are shown, what it warms. The macro only spreads the rows into the table,
/// the handlers behind their access check, the entries and the dispatch: each is one call.
macro_rules! endpoints {
    ($($function:ident = $($module:ident)::+: $($method:literal $path:literal)|+, $access:ident, $serves:ident, $shows:ident, warm $warm:ident;)*) => {
        const ENDPOINTS: &[Endpoint] = &[$($(Endpoint {
            route: Route { method: $method, path: $path, function: stringify!($function), access: Access::$access },
            serves: $serves,
        },)+)*];

        /// Each endpoint's handler behind its route's access check, in the one shape the edge runs.
        pub mod handlers {
            use super::*;
            use crate::edge::http::{Cx, Reply};

            $(pub async fn $function(app: Arc<App>, req: Request, cx: Cx) -> shared::error::Result<Reply> {
                crate::edge::access::guarded(Access::$access, crate::$($module)::+::handle, app, req, cx).await
            })*
        }

        /// Each function's `main`, compiled here once (see `entry`).
        pub mod entries {
            use super::*;
            use crate::runtime::{Main, run_http, warm};

            $(#[doc = concat!("`", stringify!($function), "`:", $(" ", $method, " ", $path,)+ ".")]
            pub fn $function() -> Main<lambda_http::Error> {
                shared::iam::set_process_function(stringify!($function));
                run_http(handlers::$function, $shows, warm::$warm)
            })*
        }

        /// Each function's served request as a boxed future, made in a frame of its own: `run`'s
        /// frame then holds one pointer, not a slot for every function's future (a debug build
        /// gives each match arm its own, and a test thread has 2 MiB of stack).
        mod boxed {
            use super::*;

            pub type Served = std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send>>;

            $(#[inline(never)]
            pub fn $function(app: Arc<App>, req: Request) -> Served {
                Box::pin(serve(app, req, $shows, handlers::$function))
            })*
        }

        async fn run(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
            let served = match function {
                $(stringify!($function) => boxed::$function(app, req),)*
                _ => return None,
            };
            Some(served.await)
        }
    };
}

endpoints! {
    register = auth::register: "POST" "/api/v1/auth/register", PUBLIC, EVERY_APP, ENVELOPE, warm nothing;
    verify_email = auth::verify_email: "POST" "/api/v1/auth/verify-email", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    resend_verification = auth::resend_verification: "POST" "/api/v1/auth/resend-verification", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    login = auth::login: "POST" "/api/v1/auth/login", PUBLIC, EVERY_APP, ENVELOPE, warm login;
    token_refresh = auth::token_refresh: "POST" "/api/v1/auth/token/refresh", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    logout = auth::logout: "POST" "/api/v1/auth/logout", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    sessions_list = auth::sessions_list: "GET" "/api/v1/auth/sessions", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    sessions_revoke_all = auth::sessions_revoke_all: "DELETE" "/api/v1/auth/sessions", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    session_revoke = auth::session_revoke: "DELETE" "/api/v1/auth/sessions/{id}", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    verify_token = auth::verify_token: "GET" "/api/v1/auth/verify-token", TOKEN_CHECK, EVERY_APP, ENVELOPE, warm public_keys;
    users_me = account::me: "GET" "/api/v1/users/me", PROFILE, EVERY_APP, ENVELOPE, warm public_keys;
    users_me_update = account::me_update: "PATCH" "/api/v1/users/me", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    password_reset = auth::password_reset: "POST" "/api/v1/auth/password/reset", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    password_reset_confirm = auth::password_reset_confirm: "POST" "/api/v1/auth/password/reset/confirm", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    password_change = auth::password_change: "POST" "/api/v1/auth/password/change", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    magic_link = auth::magic_link: "POST" "/api/v1/auth/magic-link", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    magic_link_verify = auth::magic_link_verify: "POST" "/api/v1/auth/magic-link/verify", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    deletion_request = account::deletion_request: "POST" "/api/v1/account/deletion", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    deletion_confirm = account::deletion_confirm: "POST" "/api/v1/account/deletion/confirm", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    deletion_cancel = account::deletion_cancel: "POST" "/api/v1/account/deletion/cancel", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    deletion_status = account::deletion_status: "GET" "/api/v1/account/deletion", OPTIONAL_SESSION, EVERY_APP, ENVELOPE, warm public_keys;
    users_me_audit = account::me_audit: "GET" "/api/v1/users/me/audit", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    // End-users' API keys: made and managed by the user's sessions only.
    api_keys_create = account::api_keys_create: "POST" "/api/v1/auth/api-keys", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    api_keys_list = account::api_keys_list: "GET" "/api/v1/auth/api-keys", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    api_key_revoke = account::api_key_revoke: "DELETE" "/api/v1/auth/api-keys/{id}", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    api_key_rotate = account::api_key_rotate: "POST" "/api/v1/auth/api-keys/{id}/rotate", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    // A second factor: the user's factors, and the second step of a sign-in or a session's step-up.
    // Enrolment and verify take a session or, in its place, a sign-in's `mfa_token`.
    mfa_factors_list = mfa::factors_list: "GET" "/api/v1/auth/mfa/factors", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    mfa_totp_create = mfa::totp_create: "POST" "/api/v1/auth/mfa/totp", OPTIONAL_SESSION, EVERY_APP, ENVELOPE, warm public_keys;
    mfa_totp_confirm = mfa::totp_confirm: "POST" "/api/v1/auth/mfa/totp/{factor_id}/confirm", OPTIONAL_SESSION, EVERY_APP, ENVELOPE, warm public_keys;
    mfa_recovery_codes = mfa::recovery_codes: "POST" "/api/v1/auth/mfa/recovery-codes", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    mfa_factor_delete = mfa::factor_delete: "DELETE" "/api/v1/auth/mfa/factors/{factor_id}", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    mfa_challenge = mfa::challenge: "POST" "/api/v1/auth/mfa/challenge", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    mfa_verify = mfa::verify: "POST" "/api/v1/auth/mfa/verify", OPTIONAL_SESSION, EVERY_APP, ENVELOPE, warm keys_and_store;
    // Social login: the service is the OAuth2 client of Google, Apple and GitHub.
    // The app's OAuth2 provider (RFC 6749 answers, not the envelope).
    op_token = provider::token: "POST" "/oauth/token", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    op_introspect = provider::introspect: "POST" "/oauth/introspect", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_revoke = provider::revoke: "POST" "/oauth/revoke", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_metadata = provider::metadata: "GET" "/.well-known/oauth-authorization-server", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_authorize = provider::authorize: "GET" "/oauth/authorize", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    op_authorize_form = provider::authorize_form: "POST" "/oauth/authorize", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    op_authorize_login = provider::authorize_login: "POST" "/oauth/authorize/login", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    op_authorize_consent = provider::authorize_consent: "POST" "/oauth/authorize/consent", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_authorize_continue = provider::authorize_continue: "GET" "/oauth/authorize/continue", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    op_userinfo = provider::userinfo: "GET" "/oauth/userinfo", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_userinfo_form = provider::userinfo_form: "POST" "/oauth/userinfo", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_logout = provider::logout: "GET" "/oauth/logout", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    op_logout_confirm = provider::logout_confirm: "POST" "/oauth/logout", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    // A user's connected apps (consents to the app's OAuth clients): sessions only.
    consents_list = account::consents_list: "GET" "/api/v1/auth/consents", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    consent_revoke = account::consent_revoke: "DELETE" "/api/v1/auth/consents/{client_id}", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    oauth_providers = social::providers: "GET" "/api/v1/auth/oauth/providers", PUBLIC, EVERY_APP, ENVELOPE, warm nothing;
    oauth_start = social::start: "GET" "/api/v1/auth/oauth/{provider}", PUBLIC, EVERY_APP, ENVELOPE, warm store;
    oauth_callback = social::callback: "GET" "/api/v1/auth/oauth/{provider}/callback", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    oauth_callback_form = social::callback_form: "POST" "/api/v1/auth/oauth/{provider}/callback", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    oauth_exchange = social::exchange: "POST" "/api/v1/auth/oauth/exchange", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    oauth_token = social::token: "POST" "/api/v1/auth/oauth/{provider}/token", PUBLIC, EVERY_APP, ENVELOPE, warm keys_and_store;
    oauth_link = social::link: "POST" "/api/v1/auth/oauth/{provider}/link", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    identities_list = social::identities_list: "GET" "/api/v1/auth/identities", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    identity_unlink = social::identity_unlink: "DELETE" "/api/v1/auth/identities/{provider}", SESSIONS, EVERY_APP, ENVELOPE, warm public_keys;
    health = discovery::health: "GET" "/api/v1/health", PUBLIC, EVERY_APP, ENVELOPE, warm nothing;
    health_detailed = discovery::health_detailed: "GET" "/api/v1/health/detailed", SYSTEM_READ, EVERY_APP, ENVELOPE, warm public_keys;
    openapi = discovery::openapi: "GET" "/api/v1/openapi.json", PUBLIC, EVERY_APP, ENVELOPE, warm nothing;
    jwks = discovery::jwks: "GET" "/.well-known/jwks.json", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    openid_configuration = discovery::openid_configuration: "GET" "/.well-known/openid-configuration", PUBLIC, EVERY_APP, ENVELOPE, warm public_keys;
    // The management API: the app's backend (a secret key) or its owner (a console session).
    admin_users_create = admin::users_create: "POST" "/api/v1/admin/users", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_users_list = admin::users_list: "GET" "/api/v1/admin/users", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_user_get = admin::user_get: "GET" "/api/v1/admin/users/{user_id}", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_user_update = admin::user_update: "PATCH" "/api/v1/admin/users/{user_id}", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_user_delete = admin::user_delete: "DELETE" "/api/v1/admin/users/{user_id}", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_user_sessions_revoke = admin::user_sessions_revoke: "DELETE" "/api/v1/admin/users/{user_id}/sessions", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_user_mfa_reset = admin::user_mfa_reset: "DELETE" "/api/v1/admin/users/{user_id}/mfa", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_user_password_reset = admin::user_password_reset: "POST" "/api/v1/admin/users/{user_id}/password-reset", ADMIN, EVERY_APP, ENVELOPE, warm store;
    admin_audit = admin::audit: "GET" "/api/v1/admin/audit", ADMIN, EVERY_APP, ENVELOPE, warm store;
    // The console API: developers (sessions of the `console` app) and their apps. Service-wide.
    console_apps_create = console::apps_create: "POST" "/api/v1/console/apps", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_apps_list = console::apps_list: "GET" "/api/v1/console/apps", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_app_get = console::app_get: "GET" "/api/v1/console/apps/{app_id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_app_update = console::app_update: "PATCH" "/api/v1/console/apps/{app_id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_app_delete = console::app_delete: "DELETE" "/api/v1/console/apps/{app_id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    secret_keys_create = console::secret_keys_create: "POST" "/api/v1/console/apps/{app_id}/secret-keys", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    secret_keys_list = console::secret_keys_list: "GET" "/api/v1/console/apps/{app_id}/secret-keys", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    secret_key_revoke = console::secret_key_revoke: "DELETE" "/api/v1/console/apps/{app_id}/secret-keys/{id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_providers_list = console::providers_list: "GET" "/api/v1/console/apps/{app_id}/providers", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_provider_put = console::provider_put: "PUT" "/api/v1/console/apps/{app_id}/providers/{provider}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    console_provider_delete = console::provider_delete: "DELETE" "/api/v1/console/apps/{app_id}/providers/{provider}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    oauth_clients_create = console::oauth_clients_create: "POST" "/api/v1/console/apps/{app_id}/oauth-clients", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    oauth_clients_list = console::oauth_clients_list: "GET" "/api/v1/console/apps/{app_id}/oauth-clients", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    oauth_client_get = console::oauth_client_get: "GET" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    oauth_client_update = console::oauth_client_update: "PATCH" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    oauth_client_delete = console::oauth_client_delete: "DELETE" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    oauth_client_rotate_secret = console::oauth_client_rotate_secret: "POST" "/api/v1/console/apps/{app_id}/oauth-clients/{client_id}/rotate-secret", CONSOLE, SERVICE, ENVELOPE, warm public_keys;
    // The developer dashboard: one function, pages routed in-process (one function per page would
    // cost the stack a function, a role and a permission each).
    dashboard = dashboard: "GET" "/dashboard" | "GET" "/dashboard/{proxy+}" | "POST" "/dashboard/{proxy+}", PUBLIC, SERVICE, DASHBOARD_PAGE, warm keys_and_store;
    // Every path's CORS preflight. `cargo lambda watch` answers preflights itself, so this route is
    // the one the router in Cargo.toml leaves out.
    cors_preflight = edge::preflight: "OPTIONS" "/{proxy+}", PUBLIC, SERVICE, ENVELOPE, warm nothing;
}

/// Every route: each endpoint's path and, for every app's endpoints, its `/apps/{app_id}` form.
pub fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        ENDPOINTS
            .iter()
            .flat_map(|e| {
                // Leaked once per cold start: the table lives as long as the process.
                let app_route = (e.serves == EVERY_APP).then(|| Route {
                    path: Box::leak(format!("/apps/{{app_id}}{}", e.route.path).into_boxed_str()),
                    ..e.route
                });
                std::iter::once(e.route).chain(app_route)
            })
            .collect()
    })
}

/// Functions that are not routes of their own.
pub const AUTHORIZER: &str = "authorizer";
/// The outbox's mailer, fed by the table's stream.
pub const MAILER: &str = "mailer";

/// One `matchit` router per method, built once: API Gateway's `{name}` is matchit's, and its greedy
/// `{name+}` is matchit's catch-all `{*name}`.
fn routers() -> &'static Vec<(&'static str, matchit::Router<&'static Route>)> {
    static ROUTERS: OnceLock<Vec<(&'static str, matchit::Router<&'static Route>)>> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        let mut by_method: Vec<(&'static str, matchit::Router<&'static Route>)> = Vec::new();
        for route in routes() {
            let pattern = match route.path.strip_suffix("+}") {
                Some(head) => match head.rsplit_once('{') {
                    Some((prefix, name)) => format!("{prefix}{{*{name}}}"),
                    None => route.path.to_owned(),
                },
                None => route.path.to_owned(),
            };
            let index = match by_method.iter().position(|(m, _)| *m == route.method) {
                Some(i) => i,
                None => {
                    by_method.push((route.method, matchit::Router::new()));
                    by_method.len() - 1
                }
            };
            by_method[index].1.insert(pattern, route).expect("the route table has no conflicting paths");
        }
        by_method
    })
}

/// The route a request's method and path select, and the path parameters (`{id}`) it binds.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, Vec<(String, String)>)> {
    let (_, router) = routers().iter().find(|(m, _)| m.eq_ignore_ascii_case(method))?;
    let found = router.at(path).ok()?;
    let params = found.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    Some((*found.value, params))
}

/// Runs the named function's handler on a request, as its Lambda binary would. `None` for a name
/// that is not an HTTP function.
pub async fn dispatch(app: Arc<App>, function: &str, req: Request) -> Option<Response<Body>> {
    // The AWS calls of the handler are recorded for its function, as its own binary's would be.
    let name = ENDPOINTS.iter().map(|e| e.route.function).find(|f| *f == function)?;
    // Boxed: the handlers' futures are large, and the scope would otherwise hold one more copy on
    // the stack of whoever awaits this (a test thread's 2 MiB overflowed).
    shared::iam::as_function(name, Box::pin(run(app, name, req))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_select_their_route_and_bind_parameters() {
        let (route, params) = find("DELETE", "/api/v1/auth/sessions/abc").unwrap();
        assert_eq!(route.function, "session_revoke");
        assert_eq!(params, vec![("id".to_owned(), "abc".to_owned())]);
        assert_eq!(find("delete", "/api/v1/auth/sessions").unwrap().0.function, "sessions_revoke_all");
        let (preflight, params) = find("OPTIONS", "/api/v1/a/b").unwrap();
        assert_eq!(preflight.function, "cors_preflight");
        assert_eq!(params, vec![("proxy".to_owned(), "api/v1/a/b".to_owned())]);
        assert!(find("GET", "/api/v1/nothing").is_none());
        assert!(find("PUT", "/api/v1/users/me").is_none());
        let (route, params) = find("POST", "/apps/app_0123456789abcdef/api/v1/auth/login").unwrap();
        assert_eq!(route.function, "login");
        assert_eq!(params, vec![("app_id".to_owned(), "app_0123456789abcdef".to_owned())]);
    }
}
